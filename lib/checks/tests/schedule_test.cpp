// SPDX-License-Identifier: Apache-2.0
// The scheduler against an injected clock: 24 simulated hours in milliseconds of test time.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "shard.hpp"
#include "schedule.hpp"

using namespace std::chrono_literals;
using namespace vigil::checks;
using vigil::Duration;

TEST_CASE("schedule: 24 simulated hours of checks start exactly on the grid, no drift", "[unit]") {
    Scheduler s;
    const Time start = std::chrono::hours(24 * 20000) + 123456789ns;  // an arbitrary wall time
    std::map<Scheduler::SiteId, std::vector<Time>> starts;
    std::map<Scheduler::SiteId, Duration> intervals;
    std::mt19937_64 rng(1);
    for (int i = 0; i < 200; ++i) {
        Duration interval = std::chrono::seconds(i % 2 == 0 ? 60 : 7);
        auto id = s.add(interval, stable_hash("site-" + std::to_string(i)), start);
        intervals[id] = interval;
    }
    const Time end = start + 24h;
    Time now = start;
    while (true) {
        auto due = s.next_due();
        if (!due || *due > end) {
            break;
        }
        // The loop wakes a little late (0-3 ms), as a real one would; lateness must not add up.
        now = std::max(now, *due + std::chrono::microseconds(rng() % 3000));
        while (auto slot = s.pop_due(now)) {
            starts[slot->id].push_back(slot->scheduled);
        }
    }
    for (const auto& [id, times] : starts) {
        auto interval = intervals[id];
        INFO("interval " << interval.count());
        auto n = static_cast<std::size_t>(24h / interval);
        CHECK((times.size() == n || times.size() == n + 1));
        bool on_grid = true;
        for (std::size_t k = 1; k < times.size(); ++k) {
            on_grid = on_grid && times[k] - times[0] == static_cast<long>(k) * interval;
        }
        CHECK(on_grid);  // every start exactly on the grid: lateness never accumulated
        CHECK(s.skipped(id) == 0);
    }
}

TEST_CASE("schedule: first checks spread over the first interval, the same after a restart", "[unit]") {
    const Time t0 = std::chrono::hours(500000) + 17s;
    std::vector<Time> firsts;
    for (int restart = 0; restart < 2; ++restart) {
        Scheduler s;
        Time now = t0 + restart * 1234567ms;  // restarted at another moment
        std::vector<Time> phases;
        for (int i = 0; i < 1000; ++i) {
            s.add(60s, stable_hash("site-" + std::to_string(i)), now);
        }
        std::vector<int> per_second(60, 0);
        while (auto due = s.next_due()) {
            if (*due >= now + 60s) {
                break;
            }
            auto slot = s.pop_due(*due);
            per_second[static_cast<std::size_t>((slot->scheduled - now) / 1s)]++;
            phases.push_back(slot->scheduled % 60s);
        }
        CHECK(phases.size() == 1000);
        for (int c : per_second) {
            CHECK(c < 40);  // ~16.7 per second on average: no bunching
        }
        std::sort(phases.begin(), phases.end());
        if (restart == 0) {
            firsts = phases;
        } else {
            CHECK(phases == firsts);  // phases are stable per name, whenever the agent starts
        }
    }
}

TEST_CASE("schedule: a loop more than an interval late skips slots instead of bunching", "[unit]") {
    Scheduler s;
    const Time t0 = 1000s;
    auto id = s.add(10s, 0, t0);
    auto first = s.pop_due(t0);
    REQUIRE(first);
    CHECK(first->scheduled == t0);
    auto late = s.pop_due(t0 + 35s);  // slots at 10s, 20s, 30s are due; only one check runs
    REQUIRE(late);
    CHECK(late->scheduled == t0 + 10s);
    CHECK(late->skipped == 2);
    CHECK(s.skipped(id) == 2);
    CHECK(*s.next_due() == t0 + 40s);  // back on the grid
    CHECK_FALSE(s.pop_due(t0 + 39s));
    s.remove(id);
    CHECK_FALSE(s.next_due());
}

TEST_CASE("schedule: slots passed while checks cannot start are counted as they pass, once each", "[unit]") {
    Scheduler s;
    const Time t0 = std::chrono::hours(400000);
    auto fast = s.add(1s, stable_hash("fast"), t0);
    auto slow = s.add(60s, stable_hash("slow"), t0);
    auto first_fast = *s.next_due();
    // Blocked from the start: nothing is popped. 10.5 s later, the slots at +0 s .. +9 s of
    // `fast` have passed; the one at +10 s stays pending. `slow` is not an interval late.
    Time blocked_until = first_fast + 10500ms;
    CHECK(s.skip_overdue(blocked_until - 5s) == 5);  // counted while blocked, not only afterwards
    CHECK(s.skip_overdue(blocked_until) == 5);
    CHECK(s.skip_overdue(blocked_until) == 0);  // once each
    CHECK(s.skipped(fast) == 10);
    CHECK(s.skipped(slow) == 0);
    // Unblocked: the pending slot is the latest grid point, and pop_due counts nothing again.
    auto slot = s.pop_due(blocked_until);
    REQUIRE(slot);
    while (slot && slot->id != fast) {
        slot = s.pop_due(blocked_until);
    }
    REQUIRE(slot);
    CHECK(slot->scheduled == first_fast + 10s);
    CHECK(slot->skipped == 0);
    CHECK(s.skipped(fast) == 10);
}
