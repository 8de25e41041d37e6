// SPDX-License-Identifier: Apache-2.0
// The site state machine alone: which checks move a site, and where.
#include <catch2/catch.hpp>

#include "site_state.hpp"

using namespace vigil::plugins::pg_sink;
using namespace std::chrono_literals;

namespace {

vigil::Timestamp at(int second) { return vigil::Timestamp(std::chrono::seconds(1'800'000'000 + second)); }

vigil::CheckRecord good(int second, double ms = 50) {
    vigil::CheckRecord c;
    c.name = "shop";
    c.url = "https://shop.example/";
    c.timestamp = at(second);
    c.check_id = "id-" + std::to_string(100000 + second);
    c.status_code = 200;
    c.ok = true;
    c.response_time = ms;
    return c;
}

vigil::CheckRecord bad(int second, const char* error = "timeout") {
    auto c = good(second);
    c.ok = false;
    c.status_code.reset();
    c.error = error;
    c.error_detail = "Operation timed out after 5000 milliseconds";
    return c;
}

// Feeds the checks in order; returns "from>to" for each change.
std::vector<std::string> run(SiteState& s, const std::vector<vigil::CheckRecord>& checks,
                             const StateRules& rules = {}) {
    std::vector<std::string> out;
    for (const auto& c : checks) {
        if (!newer(s, c)) {
            continue;
        }
        if (auto e = apply(s, c, rules)) {
            out.push_back(e->from + ">" + e->to);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("site state: down after down_after failures in a row, up after up_after good checks", "[unit][state]") {
    SiteState s{.site = "shop"};
    CHECK(run(s, {bad(1), bad(2), good(3), bad(4), bad(5)}).empty());  // a good check breaks the run
    CHECK(s.failures == 2);
    SiteState t{.site = "shop", .since = at(0)};
    std::optional<vigil::SiteEvent> down;
    for (int i = 1; i <= 3; ++i) {
        down = apply(t, bad(i), {});
    }
    REQUIRE(down);
    CHECK(down->from == "up");
    CHECK(down->to == "down");
    CHECK(down->at == at(3));
    CHECK(down->since == at(0));
    CHECK(down->check_id == "id-100003");
    CHECK(down->cause == std::optional<std::string>("timeout"));
    CHECK(down->reason == "3 failed checks in a row: timeout: Operation timed out after 5000 milliseconds");
    CHECK(t.state == Health::Down);
    CHECK(t.since == at(3));
    CHECK(run(t, {bad(4), good(5)}).empty());
    CHECK(run(t, {good(6)}) == std::vector<std::string>{"down>up"});
    CHECK(t.cause == std::nullopt);
}

TEST_CASE("site state: a check not newer than the last one changes nothing", "[unit][state]") {
    SiteState s{.site = "shop"};
    CHECK(run(s, {bad(10), bad(11), bad(12)}) == std::vector<std::string>{"up>down"});
    auto before = s.failures;
    CHECK_FALSE(newer(s, good(5)));  // older
    CHECK_FALSE(newer(s, bad(12)));  // the same check again
    CHECK(newer(s, good(13)));
    CHECK(run(s, {good(1), good(2), good(12)}).empty());
    CHECK(s.failures == before);
}

TEST_CASE("site state: slow checks and an expiring certificate degrade a site", "[unit][state]") {
    StateRules rules;
    rules.slow_ms = 1000;
    SiteState s{.site = "shop"};
    CHECK(run(s, {good(1, 1500), good(2, 1500)}, rules).empty());
    CHECK(run(s, {good(3, 1500)}, rules) == std::vector<std::string>{"up>degraded"});
    CHECK(s.cause == std::optional<std::string>("slow"));
    CHECK(run(s, {good(4), good(5, 1500), good(6)}, rules).empty());  // healthy checks must be in a row
    CHECK(run(s, {good(7)}, rules) == std::vector<std::string>{"degraded>up"});

    auto expiring = good(8);
    expiring.tls_not_after = at(8) + 24h * 3;
    auto e = apply(s, expiring, rules);
    REQUIRE(e);
    CHECK(e->to == "degraded");
    CHECK(e->cause == std::optional<std::string>("certificate"));
    CHECK(e->reason.find("in 3 days 0 hours, under cert_warn 14d") != std::string::npos);
    rules.cert_warn = 0s;
    CHECK(judge(expiring, rules).cert_soon == false);
}

TEST_CASE("site state: failures take a degraded site down, and it comes back degraded if still slow", "[unit][state]") {
    StateRules rules;
    rules.slow_ms = 1000;
    rules.down_after = 2;
    SiteState s{.site = "shop"};
    CHECK(run(s, {good(1, 2000), good(2, 2000), bad(3), bad(4)}, rules) ==
          std::vector<std::string>{"up>degraded", "degraded>down"});
    CHECK(run(s, {good(5, 2000), good(6, 2000)}, rules) == std::vector<std::string>{"down>degraded"});
}

TEST_CASE("site state: a record of the original seven fields is judged by status and regex", "[unit][state]") {
    vigil::CheckRecord c;
    c.status_code = 200;
    c.regex_check = true;
    CHECK_FALSE(judge(c, {}).failed);
    c.regex_check = false;
    CHECK(judge(c, {}).failed);
    CHECK(judge(c, {}).cause == "regex");
    c.regex_check.reset();
    c.status_code = 503;
    CHECK(judge(c, {}).cause == "http");
    c.status_code.reset();
    CHECK(judge(c, {}).cause == "connect");
}

TEST_CASE("site state: the first sites: entry whose glob matches a site sets its rules", "[unit][state]") {
    StateConfig config;
    config.defaults.down_after = 3;
    StateRules shops;
    shops.down_after = 1;
    StateRules all;
    all.down_after = 7;
    config.sites = {{"shop-*", shops}, {"*", all}};
    CHECK(config.for_site("shop-eu").down_after == 1);
    CHECK(config.for_site("blog").down_after == 7);
    config.sites.pop_back();
    CHECK(config.for_site("blog").down_after == 3);
}
