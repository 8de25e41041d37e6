// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <set>

#include "http_check.hpp"

using namespace vigil::plugins::http_check;

TEST_CASE("check_id: a UUIDv7 with its version and variant bits, ordered by time", "[unit]") {
    auto rng = seeded_rng();
    vigil::Timestamp t0(std::chrono::microseconds(1764633600000000));  // 2025-12-02
    auto a = make_check_id(t0, rng);
    auto b = make_check_id(t0 + std::chrono::milliseconds(1), rng);
    REQUIRE(a.size() == 36);
    CHECK(a[8] == '-');
    CHECK(a[14] == '7');  // version
    CHECK(std::string("89ab").find(a[19]) != std::string::npos);  // RFC 9562 variant
    CHECK(a < b);
    CHECK(a.substr(0, 8) == "019adc5b");  // the millisecond timestamp leads
}

TEST_CASE("check_id: generators seeded apart never repeat each other", "[unit]") {
    // Each agent (and each worker) seeds its own generator: a thousand of them, one id each,
    // at the same millisecond, must all differ.
    vigil::Timestamp t0(std::chrono::microseconds(1764633600000000));
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        auto rng = seeded_rng();
        ids.insert(make_check_id(t0, rng));
    }
    CHECK(ids.size() == 1000);
}
