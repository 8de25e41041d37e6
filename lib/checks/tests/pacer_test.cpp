// SPDX-License-Identifier: Apache-2.0
// The pacer against an injected clock: once, every site once within the bound on checks in
// flight; on a schedule, each site at its slot; with the pipeline full, nothing starts and the
// slots that pass are counted. And the event loop's wait, rounded up.
#include <catch2/catch.hpp>

#include <set>

#include "pacer.hpp"

using namespace std::chrono_literals;
using namespace vigil::checks;

namespace {
struct Site {
    std::string name;
    vigil::Duration interval{};
    bool operator==(const Site&) const = default;
};
std::vector<std::shared_ptr<const Site>> sites(int n, vigil::Duration interval) {
    std::vector<std::shared_ptr<const Site>> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::make_shared<const Site>(Site{"site-" + std::to_string(i), interval}));
    }
    return out;
}
}  // namespace

TEST_CASE("pacer: once, every site starts once, never more than max_in_flight at a time", "[unit]") {
    auto& skipped = vigil::counter("vigil_test_pacer_once_skipped_total", {});
    Pacer<Site> pacer(true, skipped);
    pacer.apply(sites(10, 1h), 0ns, 4, {});
    pacer.begin();
    std::set<std::string> started;
    std::size_t running = 0;
    auto start = [&](const std::shared_ptr<const Site>& s, Time) {
        CHECK(started.insert(s->name).second);
        ++running;
    };
    pacer.start_due([] { return 0ns; }, false, [&] { return running; }, start);
    CHECK(running == 4);
    CHECK_FALSE(pacer.once_started());
    CHECK_FALSE(pacer.due_in(0ns, false, 0));  // once: no schedule to wait for
    running = 0;
    pacer.start_due([] { return 0ns; }, true, [&] { return running; }, start);  // pipeline full
    CHECK(running == 0);
    for (int round = 0; round < 3; ++round) {
        running = 0;
        pacer.start_due([] { return 0ns; }, false, [&] { return running; }, start);
    }
    CHECK(started.size() == 10);
    CHECK(pacer.once_started());
}

TEST_CASE("pacer: on a schedule, each site at its slot; a full pipeline starts none and counts the slots passed",
          "[unit]") {
    auto& skipped = vigil::counter("vigil_test_pacer_schedule_skipped_total", {});
    Pacer<Site> pacer(false, skipped);
    pacer.apply(sites(5, 1s), 0ns, 100, {});
    pacer.begin();
    Time now = 0ns;
    std::vector<Time> slots;
    auto start = [&](const std::shared_ptr<const Site>&, Time scheduled) { slots.push_back(scheduled); };
    auto count = [] { return std::size_t{0}; };
    for (; now < 3s; now += 1ms) {
        pacer.start_due([&] { return now; }, false, count, start);
    }
    CHECK(slots.size() == 15);  // five sites, three intervals
    for (auto t : slots) {
        CHECK(t <= now);
    }
    auto wait = pacer.due_in(now, false, 0);
    REQUIRE(wait);
    CHECK(*wait <= 1s);
    CHECK_FALSE(pacer.due_in(now, true, 0));     // full pipeline: sleep on
    CHECK_FALSE(pacer.due_in(now, false, 100));  // no room

    slots.clear();
    now += 5s;  // the pipeline stays full for five intervals
    pacer.start_due([&] { return now; }, true, count, start);
    CHECK(slots.empty());
    CHECK(skipped.value() > 0);
}

TEST_CASE("pacer: the loop's wait is the soonest deadline, capped, rounded up to whole milliseconds", "[unit]") {
    CHECK(wait_ms(100ms, {}) == 100);
    CHECK(wait_ms(100ms, {std::nullopt, 20ms}) == 20);
    CHECK(wait_ms(100ms, {1500us, 20ms}) == 2);  // never a hair early
    CHECK(wait_ms(100ms, {-5ms}) == 0);
    CHECK(wait_ms(100ms, {1ns}) == 1);
}
