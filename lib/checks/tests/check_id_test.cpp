// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <set>

#include "check_id.hpp"

using namespace vigil::checks;

TEST_CASE("check_id: a UUIDv7 with its version and variant bits, ordered by time", "[unit]") {
    auto rng = seeded_rng();
    vigil::Timestamp t0(std::chrono::microseconds(1764633600000000));  // 2025-12-02
    auto a = make_check_id(t0, rng);
    auto b = make_check_id(t0 + std::chrono::milliseconds(1), rng);
    REQUIRE(a.size() == 36);
    CHECK(a[8] == '-');
    CHECK(a[14] == '7');                                          // version
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

TEST_CASE("check_id: one generator never repeats within a millisecond; ids sort by their start", "[unit]") {
    auto rng = seeded_rng();
    vigil::Timestamp t0(std::chrono::microseconds(1764633600000000));
    std::set<std::string> same_ms;
    for (int i = 0; i < 100000; ++i) {
        same_ms.insert(make_check_id(t0 + std::chrono::microseconds(i % 1000), rng));
    }
    CHECK(same_ms.size() == 100000);
    // Time order: the 48-bit millisecond prefix decides, whatever the random bits.
    std::string previous;
    for (std::int64_t ms : {0LL, 1LL, 999LL, 1000LL, 86'400'000LL, 1LL << 40}) {
        auto id = make_check_id(t0 + std::chrono::milliseconds(ms), rng);
        CHECK(previous < id);
        previous = id;
        auto hex = id.substr(0, 8) + id.substr(9, 4);
        CHECK(std::stoull(hex, nullptr, 16) == static_cast<std::uint64_t>(1764633600000 + ms));
        // Version 7 and variant 10xx, on every id.
        CHECK(id[14] == '7');
        CHECK((std::stoi(id.substr(19, 1), nullptr, 16) & 0xc) == 0x8);
    }
}
