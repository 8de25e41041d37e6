// SPDX-License-Identifier: Apache-2.0
#include "schedule.hpp"

namespace vigil::checks {

Scheduler::SiteId Scheduler::add(Duration interval, std::uint64_t phase_hash, Time now) {
    SiteId id = next_id_++;
    auto step = interval.count();
    auto phase = static_cast<Time::rep>(phase_hash % static_cast<std::uint64_t>(step));
    // First grid point >= now on the grid phase + k * step.
    auto k = (now.count() - phase + step - 1) / step;
    Time first(phase + k * step);
    sites_[id] = SiteState{interval, 0, 0};
    heap_.push({first, id, 0});
    return id;
}

void Scheduler::remove(SiteId id) { sites_.erase(id); }

void Scheduler::drop_stale() const {
    while (!heap_.empty()) {
        const auto& top = heap_.top();
        auto it = sites_.find(top.id);
        if (it != sites_.end() && it->second.generation == top.generation) {
            return;
        }
        heap_.pop();
    }
}

std::optional<Time> Scheduler::next_due() const {
    drop_stale();
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.top().due;
}

std::optional<Scheduler::Slot> Scheduler::pop_due(Time now) {
    drop_stale();
    if (heap_.empty() || heap_.top().due > now) {
        return std::nullopt;
    }
    Entry e = heap_.top();
    heap_.pop();
    auto& site = sites_.at(e.id);
    Time next = e.due + site.interval;
    std::uint64_t skipped = 0;
    if (next <= now) {
        auto behind = (now - next) / site.interval + 1;  // whole slots already past
        skipped = static_cast<std::uint64_t>(behind);
        site.skipped += skipped;
        next += behind * site.interval;
    }
    heap_.push({next, e.id, ++site.generation});
    return Slot{e.id, e.due, skipped};
}

std::uint64_t Scheduler::skip_overdue(Time now) {
    std::vector<Entry> due;
    std::uint64_t total = 0;
    drop_stale();
    while (!heap_.empty() && heap_.top().due <= now) {
        Entry e = heap_.top();
        heap_.pop();
        auto it = sites_.find(e.id);
        if (it == sites_.end() || it->second.generation != e.generation) {
            continue;  // a stale entry: drop it
        }
        auto& site = it->second;
        if (e.due + site.interval <= now) {
            auto behind = (now - e.due) / site.interval;  // whole slots already past, >= 1
            site.skipped += static_cast<std::uint64_t>(behind);
            total += static_cast<std::uint64_t>(behind);
            e.due += behind * site.interval;
            e.generation = ++site.generation;
        }
        due.push_back(e);
    }
    for (const auto& e : due) {
        heap_.push(e);
    }
    return total;
}

std::uint64_t Scheduler::skipped(SiteId id) const {
    auto it = sites_.find(id);
    return it == sites_.end() ? 0 : it->second.skipped;
}

}  // namespace vigil::checks
