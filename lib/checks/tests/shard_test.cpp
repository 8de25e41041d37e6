// SPDX-License-Identifier: Apache-2.0
// Sharding by the stable hash: every site in exactly one shard, the same on every run, and the
// `I/N` text read strictly.
#include <catch2/catch.hpp>

#include <string>

#include "shard.hpp"

using vigil::checks::Shard;

TEST_CASE("shard: every site falls in exactly one of N shards, in shares near 1/N", "[unit]") {
    constexpr unsigned kShards = 4;
    unsigned counts[kShards] = {};
    for (int i = 0; i < 10000; ++i) {
        auto name = "site-" + std::to_string(i);
        unsigned in = 0;
        for (unsigned s = 1; s <= kShards; ++s) {
            if (Shard{s, kShards}.keeps(name)) {
                ++in;
                ++counts[s - 1];
            }
        }
        CHECK(in == 1);
    }
    for (unsigned c : counts) {
        CHECK(c > 2300);  // 2500 each, give or take
        CHECK(c < 2700);
    }
}

TEST_CASE("shard: the hash is stable across runs and builds", "[unit]") {
    // Fixed values: a change here moves every site to another agent and another phase.
    CHECK(vigil::checks::stable_hash("") == 0x552d3fb62b3c344fULL);
    CHECK(vigil::checks::stable_hash("example") == vigil::checks::stable_hash(std::string("example")));
    CHECK(vigil::checks::stable_hash("a") != vigil::checks::stable_hash("b"));
}

TEST_CASE("shard: I/N is read strictly", "[unit]") {
    CHECK(Shard::parse("2/5") == Shard{2, 5});
    CHECK(Shard::parse("1/1") == Shard{1, 1});
    for (const char* bad : {"", "2", "0/5", "6/5", "1/0", "a/b", "1/2x", " 1/2", "-1/2", "1//2"}) {
        INFO(bad);
        CHECK_FALSE(Shard::parse(bad));
    }
}
