// SPDX-License-Identifier: Apache-2.0
// alertmanager_sink against the Alertmanager of scripts/services. Each test uses site names of
// its own, so runs never see each other's alerts.
#include <random>

#include <catch2/catch.hpp>

#include "alertmanager_sink.hpp"
#include "alertmanager_support.hpp"
#include "plugin_config.hpp"

namespace am = vigil::test::alertmanager;
using namespace vigil::plugins::alertmanager_sink;

namespace {

std::string unique(const std::string& stem) {
    static std::mt19937_64 rng{std::random_device{}()};
    return stem + "-" + std::to_string(rng() % 1'000'000'000);
}

std::unique_ptr<AlertmanagerSink> make_sink(const std::string& urls) {
    auto s = vigil::test::check_section("plugin: alertmanager_sink\nurls: " + urls + "\nlabels: {team: web}\n",
                                        kOptions, vigil::PluginKind::Sink);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    return std::make_unique<AlertmanagerSink>(std::move(*c), "alertmanager_sink.test",
                                              vigil::Logger("alertmanager_sink.test"));
}

vigil::Timestamp now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

vigil::Record event(std::int64_t id, const std::string& site, const std::string& from, const std::string& to) {
    vigil::SiteEvent e;
    e.id = id;
    e.site = site;
    e.url = "https://" + site + ".example/";
    e.from = from;
    e.to = to;
    e.at = now();
    e.since = now() - std::chrono::minutes(5);
    e.check_id = "c" + std::to_string(id);
    e.reason = "3 failed checks in a row: connect: Connection refused";
    e.cause = to == "up" ? std::nullopt : std::optional<std::string>("connect");
    e.previous_cause = from == "up" ? std::nullopt : std::optional<std::string>("connect");
    e.error_detail = "Connection refused";
    vigil::Record r;
    r.check.name = site;
    r.origin = "site_events id=" + std::to_string(id);
    r.event = e;
    return r;
}

}  // namespace

TEST_CASE("alertmanager_sink: a down event fires an alert Alertmanager holds; the up event resolves it",
          "[integration]") {
    auto site = unique("shop");
    auto sink = make_sink("[\"" + am::url() + "\"]");
    REQUIRE(sink->healthcheck().ok());
    auto r = sink->write(vigil::Batch{1, {event(1, site, "up", "down")}});
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    auto held = am::alerts_of(site);
    REQUIRE(held.size() == 1);
    CHECK(held[0].labels == std::map<std::string, std::string>{{"alertname", "VigilSiteDown"},
                                                               {"site", site},
                                                               {"url", "https://" + site + ".example/"},
                                                               {"error", "connect"},
                                                               {"team", "web"}});
    CHECK(held[0].state == "active");
    CHECK(held[0].annotations["description"] == "3 failed checks in a row: connect: Connection refused");
    CHECK(held[0].annotations["error_detail"] == "Connection refused");
    REQUIRE(sink->write(vigil::Batch{2, {event(2, site, "down", "up")}}).kind == vigil::WriteResult::Kind::Accepted);
    CHECK(am::alerts_of(site).empty());
}

TEST_CASE("alertmanager_sink: one Alertmanager of two answering is enough; none is a retry naming both",
          "[integration]") {
    auto site = unique("blog");
    auto dead = std::string("http://127.0.0.1:1");  // nothing listens on port 1
    auto sink = make_sink("[\"" + dead + "\", \"" + am::url() + "\"]");
    auto r = sink->write(vigil::Batch{1, {event(1, site, "up", "down")}});
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(am::alerts_of(site).size() == 1);
    CHECK(sink->health().ok());
    auto none = make_sink("[\"" + dead + "\", \"http://127.0.0.1:2\"]");
    r = none->write(vigil::Batch{1, {event(1, site, "up", "down")}});
    REQUIRE(r.kind == vigil::WriteResult::Kind::Retry);
    CHECK_THAT(r.error, Catch::Contains("no Alertmanager took the alerts") && Catch::Contains("127.0.0.1:1") &&
                            Catch::Contains("127.0.0.1:2"));
    CHECK_FALSE(none->health().ok());
}

TEST_CASE("alertmanager_sink: an alert Alertmanager refuses is dead-lettered with its reason; the rest land",
          "[integration]") {
    auto good = unique("good");
    auto bad = unique("bad");
    auto sink = make_sink("[\"" + am::url() + "\"]");
    auto refused = event(2, bad, "down", "up");
    refused.event->since = refused.event->at + std::chrono::hours(1);  // would resolve before it started
    auto r = sink->write(vigil::Batch{1, {event(1, good, "up", "down"), refused}});
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.size() == 1);
    CHECK(r.rejected[0].index == 1);
    CHECK_FALSE(r.rejected[0].dead_lettered);  // the core's dead-letter target takes it
    CHECK_THAT(r.rejected[0].reason,
               Catch::Contains("HTTP 400") && Catch::Contains("start time must be before end time"));
    CHECK(am::alerts_of(good).size() == 1);
}

TEST_CASE("alertmanager_sink: a record that is not a site event is refused for good", "[integration]") {
    auto sink = make_sink("[\"" + am::url() + "\"]");
    vigil::Record check;
    check.check.name = "plain";
    auto r = sink->write(vigil::Batch{1, {check}});
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.size() == 1);
    CHECK_THAT(r.rejected[0].reason, Catch::Contains("not a site event"));
}
