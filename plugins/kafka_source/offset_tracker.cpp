// SPDX-License-Identifier: Apache-2.0
#include "offset_tracker.hpp"
#include "vigil/sync.hpp"

#include <algorithm>

namespace vigil::plugins::kafka_source {

OffsetTracker::State* OffsetTracker::find(const TopicPartition& tp) {
    auto it = ids_.find(tp);
    return it == ids_.end() ? nullptr : &states_[it->second];
}

const OffsetTracker::State* OffsetTracker::find(const TopicPartition& tp) const {
    auto it = ids_.find(tp);
    return it == ids_.end() ? nullptr : &states_[it->second];
}

void OffsetTracker::assign(const TopicPartition& tp) {
    Lock lock(mutex_);
    auto [it, fresh] = ids_.emplace(tp, static_cast<std::uint32_t>(states_.size()));
    if (fresh) {
        states_.push_back(State{tp});
    }
    auto& s = states_[it->second];
    s = State{tp};
    s.epoch = next_epoch_++;
}

std::optional<std::int64_t> OffsetTracker::revoke(const TopicPartition& tp) {
    Lock lock(mutex_);
    State* s = find(tp);
    if (s == nullptr || s->epoch == 0) {
        return std::nullopt;
    }
    std::optional<std::int64_t> out;
    if (s->position >= 0 && s->position != s->confirmed) {
        out = s->position;
    }
    *s = State{tp};
    return out;
}

Coord OffsetTracker::track(const TopicPartition& tp, std::int64_t offset) {
    Lock lock(mutex_);
    auto it = ids_.find(tp);
    if (it == ids_.end() || states_[it->second].epoch == 0) {
        return {};
    }
    auto& s = states_[it->second];
    // A rewind (the consumer fetched from an earlier offset again): what follows will be read
    // again, so forget the later entries rather than wait for them.
    while (!s.entries.empty() && s.entries.back().offset >= offset) {
        s.entries.pop_back();
    }
    s.entries.push_back({offset, false});
    return {it->second, s.epoch, offset};
}

void OffsetTracker::done(const Coord& c) {
    Lock lock(mutex_);
    if (c.epoch == 0 || c.id >= states_.size()) {
        return;
    }
    auto& s = states_[c.id];
    if (s.epoch != c.epoch) {
        return;  // acknowledged after its partition was revoked: not ours to commit any more
    }
    auto it = std::lower_bound(s.entries.begin(), s.entries.end(), c.offset,
                               [](const Entry& e, std::int64_t o) { return e.offset < o; });
    if (it == s.entries.end() || it->offset != c.offset) {
        return;
    }
    it->done = true;
    while (!s.entries.empty() && s.entries.front().done) {
        s.position = s.entries.front().offset + 1;
        s.entries.pop_front();
    }
}

bool OffsetTracker::is_current(const Coord& c) const {
    Lock lock(mutex_);
    return c.epoch != 0 && c.id < states_.size() && states_[c.id].epoch == c.epoch;
}

std::vector<OffsetTracker::Commit> OffsetTracker::take_commits() {
    Lock lock(mutex_);
    std::vector<Commit> out;
    for (auto& s : states_) {
        if (s.epoch != 0 && s.position >= 0 && s.position > s.requested) {
            out.push_back({s.tp, s.position});
            s.requested = s.position;
        }
    }
    return out;
}

std::vector<OffsetTracker::Commit> OffsetTracker::unconfirmed() {
    Lock lock(mutex_);
    std::vector<Commit> out;
    for (auto& s : states_) {
        if (s.epoch != 0 && s.position >= 0 && s.position != s.confirmed) {
            out.push_back({s.tp, s.position});
            s.requested = s.position;
        }
    }
    return out;
}

void OffsetTracker::commit_result(const TopicPartition& tp, std::int64_t offset, bool ok) {
    Lock lock(mutex_);
    State* s = find(tp);
    if (s == nullptr || s->epoch == 0) {
        return;
    }
    if (ok) {
        s->confirmed = std::max(s->confirmed, offset);
    } else if (s->requested == offset) {
        s->requested = s->confirmed;  // asked again by the next take_commits()
    }
}

std::vector<TopicPartition> OffsetTracker::assigned() const {
    Lock lock(mutex_);
    std::vector<TopicPartition> out;
    for (const auto& s : states_) {
        if (s.epoch != 0) {
            out.push_back(s.tp);
        }
    }
    return out;
}

std::size_t OffsetTracker::outstanding() const {
    Lock lock(mutex_);
    std::size_t n = 0;
    for (const auto& s : states_) {
        n += s.entries.size();
    }
    return n;
}

std::optional<std::int64_t> OffsetTracker::position(const TopicPartition& tp) const {
    Lock lock(mutex_);
    const State* s = find(tp);
    if (s == nullptr || s->epoch == 0 || s->position < 0) {
        return std::nullopt;
    }
    return s->position;
}

}  // namespace vigil::plugins::kafka_source
