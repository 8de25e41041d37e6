// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "vigil/batch.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

/// Releases acknowledgements in emission order. A batch resolved out of order waits until every
/// earlier batch is resolved; once any batch is Undelivered, every later one is reported
/// Undelivered too, so a source that commits "up to this batch" never passes a gap.
/// Thread-safe (a leaf lock).
class AckTracker {
  public:
    struct Ready {
        AckFn ack;
        AckStatus status;
        std::uint64_t sequence;
        std::size_t records;
    };

    void add(std::uint64_t sequence, AckFn ack, std::size_t records);
    /// Marks `sequence` resolved; returns the acknowledgements now due, in order.
    std::vector<Ready> resolve(std::uint64_t sequence, AckStatus status);
    std::size_t pending() const;

  private:
    struct Entry {
        AckFn ack;
        std::size_t records = 0;
        bool resolved = false;
        AckStatus status = AckStatus::Delivered;
    };
    mutable Mutex mutex_;
    std::map<std::uint64_t, Entry> entries_ VIGIL_GUARDED_BY(mutex_);
    bool poisoned_ VIGIL_GUARDED_BY(mutex_) = false;
};

}  // namespace vigil::pipeline
