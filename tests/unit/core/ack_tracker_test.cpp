// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "pipeline/ack_tracker.hpp"

using vigil::AckStatus;
using vigil::pipeline::AckTracker;

TEST_CASE("acks are released in emission order even when resolved out of order", "[unit][pipeline]") {
    AckTracker t;
    std::vector<std::uint64_t> order;
    for (std::uint64_t s = 1; s <= 4; ++s) {
        t.add(
            s, [&order, s](AckStatus) { order.push_back(s); }, 10);
    }
    CHECK(t.resolve(3, AckStatus::Delivered).empty());
    CHECK(t.resolve(2, AckStatus::Delivered).empty());
    auto ready = t.resolve(1, AckStatus::Delivered);
    REQUIRE(ready.size() == 3);
    for (auto& r : ready) {
        r.ack(r.status);
    }
    CHECK(order == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(t.pending() == 1);
    CHECK(t.resolve(3, AckStatus::Delivered).empty());  // resolving twice does nothing
}

TEST_CASE("after an undelivered batch every later batch is reported undelivered", "[unit][pipeline]") {
    AckTracker t;
    for (std::uint64_t s = 1; s <= 3; ++s) {
        t.add(s, nullptr, 1);
    }
    CHECK(t.resolve(2, AckStatus::Delivered).empty());
    auto ready = t.resolve(1, AckStatus::Undelivered);
    REQUIRE(ready.size() == 2);
    CHECK(ready[0].status == AckStatus::Undelivered);
    CHECK(ready[1].status == AckStatus::Undelivered);  // delivered, but past a gap: not committable
    auto last = t.resolve(3, AckStatus::Delivered);
    REQUIRE(last.size() == 1);
    CHECK(last[0].status == AckStatus::Undelivered);
}
