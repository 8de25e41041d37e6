// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "pipeline/backoff.hpp"

using namespace std::chrono_literals;
using vigil::pipeline::Backoff;

TEST_CASE("backoff doubles up to the cap, with jitter within [d/2, d]", "[unit][pipeline]") {
    Backoff low(100ms, 1s, [] { return 0.0; });
    Backoff high(100ms, 1s, [] { return 0.999999; });
    std::vector<std::chrono::milliseconds> lows, highs;
    for (int i = 0; i < 7; ++i) {
        lows.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(low.next()));
        highs.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(high.next()));
    }
    CHECK(lows == std::vector<std::chrono::milliseconds>{50ms, 100ms, 200ms, 400ms, 500ms, 500ms, 500ms});
    CHECK(highs == std::vector<std::chrono::milliseconds>{99ms, 199ms, 399ms, 799ms, 999ms, 999ms, 999ms});
    low.reset();
    CHECK(low.next() == 50ms);
}

TEST_CASE("backoff never overflows after very many attempts", "[unit][pipeline]") {
    Backoff b(1ms, 30s, [] { return 0.5; });
    vigil::Duration d{};
    for (int i = 0; i < 10000; ++i) {
        d = b.next();
    }
    CHECK(d == 22500ms);
}
