// SPDX-License-Identifier: Apache-2.0
// The one thing another thread hands a check loop: the newest configuration (a SIGHUP reload, a
// change of the sites topic). The loop applies it between events; an offer not yet taken is
// replaced by a newer one. The giver may wait until its offer (or a newer one) is applied: a
// partition of the sites topic given up must have its sites stopped before another producer
// starts them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <optional>

#include "vigil/sync.hpp"

namespace vigil::checks {

template <class T>
class Mailbox {
  public:
    /// Returns the offer's number, for wait_applied.
    std::uint64_t put(const T& value) {
        Lock lock(mutex_);
        value_ = value;
        return ++put_;
    }
    /// Calls `apply` with the value put since the last call, if any, then wakes who waits for it.
    template <class Apply>
    void apply(Apply&& apply) {
        std::optional<T> out;
        std::uint64_t number = 0;
        {
            Lock lock(mutex_);
            out.swap(value_);
            number = put_;
        }
        if (!out) {
            return;
        }
        apply(*out);
        {
            Lock lock(mutex_);
            applied_ = number;
        }
        changed_.notify_all();
    }
    /// Whether offer `number` (or a newer one) was applied within `timeout`; true at once after close().
    bool wait_applied(std::uint64_t number, std::chrono::milliseconds timeout) {
        Lock lock(mutex_);
        return changed_.wait_for(lock.native(), timeout,
                                 [&]() VIGIL_REQUIRES(mutex_) { return closed_ || applied_ >= number; });
    }
    /// The loop has ended: nothing more will be applied, so nobody waits for it.
    void close() {
        {
            Lock lock(mutex_);
            closed_ = true;
        }
        changed_.notify_all();
    }

  private:
    Mutex mutex_;
    std::condition_variable changed_;
    std::optional<T> value_ VIGIL_GUARDED_BY(mutex_);
    std::uint64_t put_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::uint64_t applied_ VIGIL_GUARDED_BY(mutex_) = 0;
    bool closed_ VIGIL_GUARDED_BY(mutex_) = false;
};

}  // namespace vigil::checks
