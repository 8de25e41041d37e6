// SPDX-License-Identifier: Apache-2.0
// Fixed-rate scheduling for many sites without drift, with time injected so that hours of
// schedule can be tested in microseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "vigil/config.hpp"

namespace vigil::checks {

/// Nanoseconds since the Unix epoch. The engine advances it with the monotonic clock from a
/// wall-clock reading taken at start, so phases line up with wall time (stable across restarts)
/// while a wall-clock step never disturbs the schedule.
using Time = std::chrono::nanoseconds;

/// Each site runs on its own grid: phase + k * interval, where phase = hash(name) mod interval.
/// A site's next slot is always computed from the grid, never from when a check actually
/// started, so lateness never accumulates (no drift). Slots the caller could not honour in time
/// are skipped, not bunched. Not thread-safe: the engine's loop thread owns it.
class Scheduler {
  public:
    using SiteId = std::uint64_t;
    struct Slot {
        SiteId id;
        Time scheduled;
        std::uint64_t skipped;  // slots of this site passed over by this pop (the loop was late)
    };

    /// Adds a site whose first slot is the first grid point at or after `now`.
    SiteId add(Duration interval, std::uint64_t phase_hash, Time now);
    /// Forgets a site; its pending slot is dropped.
    void remove(SiteId id);
    /// The earliest pending slot, if any.
    std::optional<Time> next_due() const;
    /// Takes the earliest slot due at or before `now` and schedules the site's next one (the first
    /// grid point after `now` if the loop is more than an interval late; those are counted in
    /// skipped()). The caller starts the check, or counts an overrun if one is still running.
    std::optional<Slot> pop_due(Time now);
    /// While the caller cannot start checks (the pipeline is full): moves every site whose pending
    /// slot is an interval or more behind `now` to its latest grid point at or before `now`, and
    /// returns the slots passed over, so they are counted as they pass rather than when checking
    /// resumes. The moved slots stay pending. O(sites due) per call.
    std::uint64_t skip_overdue(Time now);
    /// Slots skipped because the caller was late by more than an interval, per site.
    std::uint64_t skipped(SiteId id) const;
    std::size_t size() const { return sites_.size(); }

  private:
    struct Entry {
        Time due;
        SiteId id;
        std::uint64_t generation;
        bool operator>(const Entry& o) const { return due > o.due || (due == o.due && id > o.id); }
    };
    struct SiteState {
        Duration interval;
        std::uint64_t generation = 0;
        std::uint64_t skipped = 0;
    };
    void drop_stale() const;

    mutable std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    std::unordered_map<SiteId, SiteState> sites_;
    SiteId next_id_ = 1;
};

}  // namespace vigil::checks
