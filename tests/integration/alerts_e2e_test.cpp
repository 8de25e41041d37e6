// SPDX-License-Identifier: Apache-2.0
// The alerts path end to end on the real services: checks stored by pg_sink with `state:`, the
// shipped etc/alerts.yaml (pg_events -> alertmanager_sink) run by the agent, and the alerts the
// Alertmanager of scripts/services holds, read through its API.
#include <csignal>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "alertmanager_support.hpp"
#include "pg_sink.hpp"
#include "pg_support.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

namespace am = vigil::test::alertmanager;
namespace pg = vigil::test::pg;
using vigil::test::Child;
using namespace std::chrono_literals;

namespace {

std::string unique_site() {
    static std::mt19937_64 rng{std::random_device{}()};
    return "e2e-" + std::to_string(rng() % 1'000'000'000);
}

std::unique_ptr<vigil::plugins::pg_sink::PgSink> state_sink(const std::string& url) {
    auto s = vigil::test::check_section(
        "plugin: pg_sink\nurl: \"" + url + "\"\nmigrate: true\nstate: {down_after: 3, up_after: 2}\n",
        vigil::plugins::pg_sink::kOptions, vigil::PluginKind::Sink);
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = vigil::plugins::pg_sink::parse_config(s->node, "pg_sink.e2e", s->diags);
    REQUIRE(c);
    auto sink =
        std::make_unique<vigil::plugins::pg_sink::PgSink>(std::move(*c), "pg_sink.e2e", vigil::Logger("pg_sink.e2e"));
    REQUIRE(sink->start().ok());
    return sink;
}

// Stores one check of `site` (failed or good) and returns once it is committed.
std::string store(vigil::plugins::pg_sink::PgSink& sink, const std::string& site, int n, bool good) {
    vigil::CheckRecord r;
    r.name = site;
    r.url = "https://" + site + ".example/";
    r.timestamp = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    r.check_id = site + "-" + std::to_string(n);
    r.ok = good;
    r.response_time = 10;
    if (good) {
        r.status_code = 200;
    } else {
        r.error = "timeout";
        r.error_detail = "Operation timed out after 5000 milliseconds";
    }
    auto result = sink.write(vigil::Batch{static_cast<std::uint64_t>(n), {{r, ""}}});
    INFO(result.error);
    REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
    return r.check_id;
}

std::unique_ptr<Child> alerts_agent(const std::string& db, const std::string& alertmanager) {
    auto etc = vigil::test::source_dir() / "etc";
    return std::make_unique<Child>(
        std::vector<std::string>{vigil::test::agent_binary().string(), "--pipeline", (etc / "alerts.yaml").string()},
        std::map<std::string, std::string>{
            {"DATABASE_URL", db}, {"ALERTMANAGER_URL", alertmanager}, {"ALERTS_METRICS_LISTEN", "127.0.0.1:0"}});
}

bool reading(const Child& agent) { return agent.err().find("reading site events of") != std::string::npos; }

}  // namespace

TEST_CASE(
    "alerts: a site failing 3 times fires one alert within 5 s of the third failure being stored; "
    "2 good checks resolve it",
    "[integration]") {
    pg::TestDatabase db;
    auto sink = state_sink(db.url());
    auto agent = alerts_agent(db.url(), am::url());
    REQUIRE(vigil::test::wait_until([&] { return reading(*agent); }, 30s));
    auto site = unique_site();
    store(*sink, site, 1, false);
    store(*sink, site, 2, false);
    auto third = store(*sink, site, 3, false);
    auto stored = std::chrono::steady_clock::now();
    bool fired = vigil::test::wait_until([&] { return !am::alerts_of(site).empty(); }, 5s);
    INFO(agent->err());
    REQUIRE(fired);
    UNSCOPED_INFO(
        "alert held "
        << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stored).count()
        << " ms after the third failure was committed");
    auto held = am::alerts_of(site);
    REQUIRE(held.size() == 1);
    CHECK(held[0].labels["alertname"] == "VigilSiteDown");
    CHECK(held[0].labels["error"] == "timeout");
    CHECK(held[0].labels["source"] == "vigil");  // etc/alerts.yaml's label
    CHECK(held[0].annotations["check_id"] == third);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM site_events") == "1");
    store(*sink, site, 4, true);
    CHECK(am::alerts_of(site).size() == 1);  // one good check is not enough
    store(*sink, site, 5, true);
    CHECK(vigil::test::wait_until([&] { return am::alerts_of(site).empty(); }, 5s));
    CHECK(vigil::test::wait_until(
        [&] { return pg::scalar(db.url(), "SELECT last_id FROM site_events_cursors WHERE name = 'alerts'") == "2"; }));
    agent->signal(SIGTERM);
    CHECK(agent->wait() == 0);
}

TEST_CASE(
    "alerts: kill -9 of the alerts pipeline between an event and its delivery; the alert arrives after "
    "the restart, under the same key",
    "[integration]") {
    pg::TestDatabase db;
    auto sink = state_sink(db.url());
    // Nothing listens on port 1: the event is read and retried, never acknowledged.
    auto agent = alerts_agent(db.url(), "http://127.0.0.1:1");
    REQUIRE(vigil::test::wait_until([&] { return reading(*agent); }, 30s));
    auto site = unique_site();
    for (int n = 1; n <= 3; ++n) {
        store(*sink, site, n, false);
    }
    REQUIRE(vigil::test::wait_until(
        [&] { return agent->err().find("no Alertmanager took the alerts") != std::string::npos; }, 15s));
    agent->signal(SIGKILL);
    agent->wait();
    CHECK(pg::scalar(db.url(), "SELECT last_id FROM site_events_cursors WHERE name = 'alerts'") == "0");
    CHECK(am::alerts_of(site).empty());

    auto restarted = alerts_agent(db.url(), am::url());
    INFO(restarted->err());
    REQUIRE(vigil::test::wait_until([&] { return !am::alerts_of(site).empty(); }, 15s));
    auto held = am::alerts_of(site);
    REQUIRE(held.size() == 1);
    CHECK(held[0].labels == std::map<std::string, std::string>{{"alertname", "VigilSiteDown"},
                                                               {"site", site},
                                                               {"url", "https://" + site + ".example/"},
                                                               {"error", "timeout"},
                                                               {"source", "vigil"}});
    CHECK(held[0].annotations["check_id"] == site + "-3");
    CHECK(vigil::test::wait_until(
        [&] { return pg::scalar(db.url(), "SELECT last_id FROM site_events_cursors WHERE name = 'alerts'") == "1"; }));
    restarted->signal(SIGTERM);
    CHECK(restarted->wait() == 0);
}
