// SPDX-License-Identifier: Apache-2.0
// The site's state from its locations' states: quorum, partial outages, silent locations, and
// the same result whatever order the locations' checks arrive in.
#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include "site_vote.hpp"

using namespace vigil::plugins::pg_sink;
using namespace std::chrono_literals;

namespace {

vigil::Timestamp at(int second) { return vigil::Timestamp(std::chrono::seconds(1'800'000'000 + second)); }

vigil::CheckRecord check(const std::string& location, int second, bool good) {
    vigil::CheckRecord c;
    c.name = "shop";
    c.url = "https://shop.example/";
    c.timestamp = at(second);
    c.check_id = location + "-" + std::to_string(100000 + second);
    c.response_time = 40;
    c.ok = good;
    if (good) {
        c.status_code = 200;
    } else {
        c.error = "connect";
        c.error_detail = "Connection refused";
    }
    if (!location.empty()) {
        c.location = location;
    }
    return c;
}

Site site() {
    Site s;
    s.overall.site = "shop";
    s.overall.since = at(0);
    return s;
}

// "site:from>to(cause)[locations]" or "us:from>to" for each change.
std::vector<std::string> feed(Site& s, const std::vector<vigil::CheckRecord>& checks, const StateRules& rules = {}) {
    std::vector<std::string> out;
    for (const auto& c : checks) {
        for (const auto& [e, location] : apply_check(s, c, rules)) {
            if (location) {
                out.push_back(*location + ":" + e.from + ">" + e.to);
                continue;
            }
            std::string names;
            for (const auto& n : e.locations) {
                names += (names.empty() ? "" : ",") + n.location;
            }
            out.push_back("site:" + e.from + ">" + e.to + "(" + e.cause.value_or("-") + ")[" + names + "]");
        }
    }
    return out;
}

// Rounds of checks 30 s apart: each location in `good` passes, each in `bad` fails.
std::vector<vigil::CheckRecord> rounds(int from, int to, const std::vector<std::string>& good,
                                       const std::vector<std::string>& bad) {
    std::vector<vigil::CheckRecord> out;
    for (int n = from; n < to; ++n) {
        for (const auto& l : good) {
            out.push_back(check(l, 30 * n + 1, true));
        }
        for (const auto& l : bad) {
            out.push_back(check(l, 30 * n + 2, false));
        }
    }
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("site vote: the issue's stream: eu good, us failing is one partial outage, not silence",
          "[unit][state][locations]") {
    auto s = site();
    StateRules rules;  // down_after 3, quorum majority
    CHECK(feed(s, rounds(0, 20, {"eu"}, {"us"}), rules) == V{"us:up>down", "site:up>degraded(partial)[us]"});
    CHECK(s.overall.state == Health::Degraded);
    CHECK(s.overall.cause == std::optional<std::string>("partial"));
    REQUIRE(s.locations.size() == 1);
    CHECK(s.locations[0] == vigil::LocationNote{"us", "down", "connect", "Connection refused"});
    CHECK(s.by_location.at("us").state == Health::Down);
    CHECK(s.by_location.at("eu").state == Health::Up);

    SECTION("a third location failing too makes it down (2 of 3), us recovering degraded again") {
        auto more = rounds(20, 24, {"eu"}, {"us", "ap"});
        CHECK(feed(s, more, rules) == V{"ap:up>down", "site:degraded>down(connect)[ap,us]"});
        CHECK(feed(s, rounds(24, 27, {"eu", "us"}, {"ap"}), rules) ==
              V{"us:down>up", "site:down>degraded(partial)[ap]"});
    }
    SECTION("a location silent past location_timeout leaves the vote, with an event; it votes again") {
        rules.location_timeout = 5min;
        // us stops sending at round 19; eu goes on: 5 min later (10 rounds) us stops voting.
        auto out = feed(s, rounds(20, 31, {"eu"}, {}), rules);
        CHECK(out == V{"us:down>silent", "site:degraded>up(-)[]"});
        CHECK_FALSE(s.by_location.at("us").voting);
        CHECK(feed(s, {check("us", 30 * 31, false)}, rules) == V{"us:silent>down", "site:up>degraded(partial)[us]"});
    }
}

TEST_CASE("site vote: one location behaves exactly as the site alone did", "[unit][state][locations]") {
    auto s = site();
    auto out = feed(s, rounds(0, 5, {}, {""}));
    CHECK(out == V{"site:up>down(connect)[]"});  // the unnamed location's name is ""
    CHECK(s.overall.failures == 5);
    CHECK(s.overall.cause == std::optional<std::string>("connect"));
    auto e = apply_check(s, check("", 200, true), {});
    CHECK(e.empty());
    e = apply_check(s, check("", 230, true), {});
    REQUIRE(e.size() == 1);
    CHECK(e[0].event.reason == "2 good checks in a row");
    CHECK(e[0].event.previous_locations == V{""});
    CHECK(e[0].event.locations.empty());
    CHECK_FALSE(e[0].location);
}

TEST_CASE("site vote: quorum all, any and N", "[unit][state][locations]") {
    for (auto [quorum, expect] :
         std::vector<std::pair<std::string, std::string>>{{"all", "site:up>degraded(partial)[us]"},
                                                          {"any", "site:up>down(connect)[us]"},
                                                          {"1", "site:up>down(connect)[us]"},
                                                          {"2", "site:up>degraded(partial)[us]"},
                                                          {"majority", "site:up>degraded(partial)[us]"}}) {
        StateRules rules;
        rules.quorum = *Quorum::parse(quorum);
        auto s = site();
        INFO(quorum);
        CHECK(feed(s, rounds(0, 4, {"eu", "ap"}, {"us"}), rules) == V{"us:up>down", expect});
    }
    CHECK(Quorum{Quorum::Kind::Count, 5}.needed(3) == 3);  // more than vote: all of them
    CHECK(Quorum{}.needed(1) == 1);                        // one down of one voting is down
    CHECK(Quorum{}.needed(4) == 3);
    CHECK_FALSE(Quorum::parse("0"));
    CHECK_FALSE(Quorum::parse("most"));
    CHECK_FALSE(Quorum::parse("2x"));
}

TEST_CASE("site vote: stragglers are compared within their location only", "[unit][state][locations]") {
    auto s = site();
    feed(s, {check("us", 100, true)});
    // eu's check started before us's latest: not a straggler, eu never sent one.
    CHECK(feed(s, {check("eu", 90, false), check("eu", 95, false), check("eu", 99, false)}) ==
          V{"eu:up>down", "site:up>degraded(partial)[eu]"});
    auto before = s.by_location.at("eu");
    CHECK(feed(s, {check("eu", 50, true), check("eu", 99, true)}).empty());  // older than eu's latest: nothing
    CHECK(s.by_location.at("eu").successes == before.successes);
    CHECK(s.overall.last_check_id == "us-100100");  // the site's latest check is still us's
}

TEST_CASE("site vote: any interleaving of the same per-location sequences gives the same states",
          "[unit][state][locations]") {
    auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    const V locations{"eu", "us", "ap", ""};
    StateRules rules;
    rules.location_timeout = 2min;
    for (int trial = 0; trial < 200; ++trial) {
        // Each location: a run of checks 30 s apart, failing in random stretches, with gaps.
        std::vector<std::vector<vigil::CheckRecord>> per;
        for (const auto& l : locations) {
            std::vector<vigil::CheckRecord> seq;
            int t = static_cast<int>(rng() % 30);
            bool failing = false;
            for (int n = 0; n < 30; ++n) {
                failing = rng() % 4 == 0 ? !failing : failing;
                t += rng() % 10 == 0 ? 300 : 30;  // now and then silent past location_timeout
                seq.push_back(check(l, t, !failing));
            }
            per.push_back(std::move(seq));
        }
        auto interleave = [&] {
            std::vector<vigil::CheckRecord> out;
            std::vector<std::size_t> next(per.size(), 0);
            while (out.size() < per.size() * 30) {
                auto i = rng() % per.size();
                if (next[i] < per[i].size()) {
                    out.push_back(per[i][next[i]++]);
                }
            }
            return out;
        };
        auto a = site(), b = site();
        feed(a, interleave(), rules);
        auto second = interleave();
        second.push_back(second[rng() % second.size()]);  // a redelivery changes nothing
        feed(b, second, rules);
        REQUIRE(a.by_location.size() == b.by_location.size());
        for (const auto& [name, la] : a.by_location) {
            const auto& lb = b.by_location.at(name);
            INFO("trial " << trial << " location " << name);
            CHECK(la.state == lb.state);
            CHECK(la.since == lb.since);
            CHECK(la.cause == lb.cause);
            CHECK(la.failures == lb.failures);
            CHECK(la.successes == lb.successes);
            CHECK(la.last_check_id == lb.last_check_id);
            CHECK(la.voting == lb.voting);
        }
        INFO("trial " << trial);
        CHECK(a.overall.state == b.overall.state);
        CHECK(a.overall.cause == b.overall.cause);
        CHECK(a.locations == b.locations);
        CHECK(a.overall.last_check_id == b.overall.last_check_id);
        CHECK(a.overall.failures == b.overall.failures);
        auto v = vote(a, rules);
        CHECK(v.state == a.overall.state);  // what is stored is what the locations make it
    }
}
