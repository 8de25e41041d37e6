// SPDX-License-Identifier: Apache-2.0
// The one thing another thread hands a check loop: the newest configuration (a SIGHUP reload).
// The loop takes it between events; an offer not yet taken is replaced by a newer one.
#pragma once

#include <optional>

#include "vigil/sync.hpp"

namespace vigil::checks {

template <class T>
class Mailbox {
  public:
    void put(const T& value) {
        Lock lock(mutex_);
        value_ = value;
    }
    /// The value put since the last take, if any.
    std::optional<T> take() {
        std::optional<T> out;
        Lock lock(mutex_);
        out.swap(value_);
        return out;
    }

  private:
    Mutex mutex_;
    std::optional<T> value_ VIGIL_GUARDED_BY(mutex_);
};

}  // namespace vigil::checks
