// SPDX-License-Identifier: Apache-2.0
// Site events to Alertmanager alerts: which fire, which resolve, under which labels.
#include <catch2/catch.hpp>

#include "alerts.hpp"

using namespace vigil::plugins::alertmanager_sink;
using namespace std::chrono_literals;

namespace {

vigil::Timestamp at(int minute) { return vigil::Timestamp(std::chrono::minutes(29'000'000 + minute)); }

vigil::SiteEvent event(const std::string& from, const std::string& to, std::optional<std::string> cause,
                       std::optional<std::string> previous) {
    vigil::SiteEvent e;
    e.id = 7;
    e.site = "shop";
    e.url = "https://shop.example/";
    e.from = from;
    e.to = to;
    e.at = at(10);
    e.since = at(0);
    e.check_id = "c10";
    e.reason = "3 failed checks in a row: timeout";
    e.cause = std::move(cause);
    e.previous_cause = std::move(previous);
    e.error_detail = "timed out";
    return e;
}

std::string label(const Alert& a, const std::string& name) {
    for (const auto& [k, v] : a.labels) {
        if (k == name) {
            return v;
        }
    }
    return "<none>";
}

}  // namespace

TEST_CASE("alerts: down fires VigilSiteDown until now + ttl, labelled by site, url and error", "[unit][alerts]") {
    Config c;
    c.labels = {{"team", "web"}};
    auto alerts = alerts_for(event("up", "down", "timeout", std::nullopt), c, at(11));
    REQUIRE(alerts.size() == 1);
    const auto& a = alerts[0];
    CHECK_FALSE(a.resolved);
    CHECK(label(a, "alertname") == "VigilSiteDown");
    CHECK(label(a, "site") == "shop");
    CHECK(label(a, "url") == "https://shop.example/");
    CHECK(label(a, "error") == "timeout");
    CHECK(label(a, "team") == "web");
    CHECK(a.starts_at == at(10));
    CHECK(a.ends_at == at(16));  // ttl 5m after now
    auto json = to_json(alerts, "http://status.example/");
    CHECK_THAT(json, Catch::Contains("\"startsAt\":\"" + vigil::format_timestamp(at(10)) + "\""));
    CHECK_THAT(json, Catch::Contains("\"generatorURL\":\"http://status.example/\""));
    CHECK_THAT(json, Catch::Contains("\"error_detail\":\"timed out\""));
}

TEST_CASE("alerts: up resolves the alert under the labels it fired with", "[unit][alerts]") {
    auto fired = alerts_for(event("up", "down", "timeout", std::nullopt), {}, at(11));
    auto resolved = alerts_for(event("down", "up", std::nullopt, "timeout"), {}, at(30));
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].resolved);
    CHECK(resolved[0].labels == fired[0].labels);
    CHECK(resolved[0].ends_at == at(10));  // when the good check that ended it started
}

TEST_CASE("alerts: down to degraded resolves one alert and fires the other", "[unit][alerts]") {
    auto alerts = alerts_for(event("down", "degraded", "slow", "connect"), {}, at(11));
    REQUIRE(alerts.size() == 2);
    CHECK(alerts[0].resolved);
    CHECK(label(alerts[0], "alertname") == "VigilSiteDown");
    CHECK(label(alerts[0], "error") == "connect");
    CHECK_FALSE(alerts[1].resolved);
    CHECK(label(alerts[1], "alertname") == "VigilSiteDegraded");
    CHECK(label(alerts[1], "error") == "slow");
}

TEST_CASE("alerts: a refresh fires the current alert again with its first startsAt", "[unit][alerts]") {
    auto e = event("down", "down", "timeout", "timeout");
    e.id = 0;
    auto alerts = alerts_for(e, {}, at(50));
    REQUIRE(alerts.size() == 1);
    CHECK_FALSE(alerts[0].resolved);
    CHECK(alerts[0].starts_at == at(0));
    CHECK(alerts[0].ends_at == at(55));
    CHECK(alerts_for(event("up", "up", std::nullopt, std::nullopt), {}, at(1)).empty());
}

TEST_CASE("alerts: the locations behind a state are a label, and a change of them moves the alert",
          "[unit][alerts][locations]") {
    auto partial = event("up", "degraded", "partial", std::nullopt);
    partial.locations = {{"us", "down", "connect", "Connection refused"}};
    auto fired = alerts_for(partial, {}, at(11));
    REQUIRE(fired.size() == 1);
    CHECK(label(fired[0], "alertname") == "VigilSiteDegraded");
    CHECK(label(fired[0], "error") == "partial");
    CHECK(label(fired[0], "locations") == "us");
    CHECK_THAT(to_json(fired, ""), Catch::Contains("\"locations\":\"us: connect: Connection refused\""));

    // A second region fails: the partial outage's alert resolves, the down one fires with both.
    auto down = event("degraded", "down", "connect", "partial");
    down.locations = {{"ap", "down", "timeout", std::nullopt}, {"us", "down", "connect", "Connection refused"}};
    down.previous_locations = {"us"};
    auto moved = alerts_for(down, {}, at(12));
    REQUIRE(moved.size() == 2);
    CHECK(moved[0].resolved);
    CHECK(moved[0].labels == fired[0].labels);
    CHECK(label(moved[1], "alertname") == "VigilSiteDown");
    CHECK(label(moved[1], "locations") == "ap,us");
    CHECK_THAT(to_json(moved, ""), Catch::Contains("\"locations\":\"ap: timeout; us: connect: Connection refused\""));

    // Still down, from other locations: resolve under the old set, fire under the new.
    auto other = event("down", "down", "connect", "connect");
    other.locations = {{"us", "down", "connect", std::nullopt}, {"eu", "down", "connect", std::nullopt}};
    other.previous_locations = {"ap", "us"};
    auto again = alerts_for(other, {}, at(13));
    REQUIRE(again.size() == 2);
    CHECK(again[0].labels == moved[1].labels);
    CHECK(again[0].resolved);
    CHECK(label(again[1], "locations") == "us,eu");

    // A refresh repeats the current labels.
    other.id = 0;
    other.previous_locations = {"us", "eu"};
    auto refresh = alerts_for(other, {}, at(14));
    REQUIRE(refresh.size() == 1);
    CHECK(refresh[0].labels == again[1].labels);

    // Without named locations there is no locations label: the alerts of before.
    auto plain = event("up", "down", "timeout", std::nullopt);
    plain.locations = {{"", "down", "timeout", std::nullopt}};
    CHECK(label(alerts_for(plain, {}, at(11))[0], "locations") == "<none>");
}
