// SPDX-License-Identifier: Apache-2.0
#include "pipeline/ack_tracker.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

void AckTracker::add(std::uint64_t sequence, AckFn ack, std::size_t records) {
    Lock lock(mutex_);
    entries_[sequence] = Entry{std::move(ack), records};
}

std::vector<AckTracker::Ready> AckTracker::resolve(std::uint64_t sequence, AckStatus status) {
    Lock lock(mutex_);
    std::vector<Ready> ready;
    auto it = entries_.find(sequence);
    if (it == entries_.end() || it->second.resolved) {
        return ready;  // resolving twice is a core bug; ignoring keeps "exactly once" for sources
    }
    it->second.resolved = true;
    it->second.status = status;
    while (!entries_.empty() && entries_.begin()->second.resolved) {
        auto node = entries_.extract(entries_.begin());
        auto& e = node.mapped();
        if (e.status == AckStatus::Undelivered) {
            poisoned_ = true;
        }
        ready.push_back({std::move(e.ack), poisoned_ ? AckStatus::Undelivered : e.status, node.key(), e.records});
    }
    return ready;
}

std::size_t AckTracker::pending() const {
    Lock lock(mutex_);
    return entries_.size();
}

}  // namespace vigil::pipeline
