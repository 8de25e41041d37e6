// SPDX-License-Identifier: Apache-2.0
// When a check loop starts its checks: each site at its slot of the fixed-rate schedule (or,
// with --once, every site once), never more than max_in_flight at a time, and none while the
// pipeline is full (the slots that pass meanwhile are counted as skipped, once a second). And how
// long the loop may sleep. Shared by the check plugins' event loops, which differ only in what a
// check does.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "site_table.hpp"
#include "vigil/metrics.hpp"

namespace vigil::checks {

/// How long an event loop may wait: the soonest of `waits` (a missing one does not count), at
/// most `cap`, in whole milliseconds rounded up, so a wake-up is never a hair early and then spins.
inline int wait_ms(std::chrono::milliseconds cap,
                   std::initializer_list<std::optional<std::chrono::nanoseconds>> waits) {
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(cap);
    for (const auto& w : waits) {
        if (w) {
            wait = std::min(wait, *w);
        }
    }
    if (wait <= std::chrono::nanoseconds::zero()) {
        return 0;
    }
    return static_cast<int>((wait.count() + 999'999) / 1'000'000);
}

/// Milliseconds from `a` to `b`, as records give their timings.
inline double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Not thread-safe: the loop's thread owns it.
template <class Site>
class Pacer {
  public:
    using SitePtr = std::shared_ptr<const Site>;

    /// `skipped` counts the slots skipped because checks started more than an interval late.
    Pacer(bool once, Counter& skipped) : once_(once), skipped_(skipped) {}

    /// A new site list and limit: unchanged sites keep their schedule; `forgotten` hears each
    /// site removed.
    void apply(const std::vector<SitePtr>& sites, Time now, std::size_t max_in_flight,
               const std::function<void(const std::string&)>& forgotten) {
        max_in_flight_ = max_in_flight;
        sites_.apply(sites, now, forgotten);
    }

    /// With --once: the pass over every site starts from the sites applied so far.
    void begin() {
        if (once_) {
            once_queue_ = sites_.all();
        }
    }

    /// Starts what is due: `start(site, scheduled)` while fewer than max_in_flight checks run
    /// (`in_flight()` is asked again after each start).
    template <class Now, class InFlight, class Start>
    void start_due(Now now, bool pipeline_full, InFlight in_flight, Start start) {
        if (pipeline_full) {
            // Due checks wait rather than pile up results; slots that pass meanwhile are
            // counted now, once a second, so an outage shows while it lasts.
            auto steady = std::chrono::steady_clock::now();
            if (!once_ && steady >= next_skip_count_) {
                skipped_.inc(sites_.scheduler().skip_overdue(now()));
                next_skip_count_ = steady + std::chrono::seconds(1);
            }
            return;
        }
        while (in_flight() < max_in_flight_) {
            Time t = now();
            if (once_) {
                if (once_queue_.empty()) {
                    return;
                }
                auto site = std::move(once_queue_.back());
                once_queue_.pop_back();
                start(site, t);
                continue;
            }
            auto slot = sites_.scheduler().pop_due(t);
            if (!slot) {
                return;
            }
            skipped_.inc(slot->skipped);
            if (auto site = sites_.find(slot->id)) {
                start(site, slot->scheduled);
            }
        }
    }

    /// How long until the next slot, when a check could start then; nullopt otherwise.
    std::optional<std::chrono::nanoseconds> due_in(Time now, bool pipeline_full, std::size_t in_flight) const {
        if (once_ || pipeline_full || in_flight >= max_in_flight_) {
            return std::nullopt;
        }
        if (auto due = sites_.scheduler().next_due()) {
            return *due - now;
        }
        return std::nullopt;
    }

    /// With --once: every site has been started.
    bool once_started() const { return once_ && once_queue_.empty(); }

  private:
    bool once_;
    Counter& skipped_;
    std::size_t max_in_flight_ = 1000;
    SiteTable<Site> sites_;
    std::vector<SitePtr> once_queue_;
    std::chrono::steady_clock::time_point next_skip_count_{};
};

}  // namespace vigil::checks
