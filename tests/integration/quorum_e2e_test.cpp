// SPDX-License-Identifier: Apache-2.0
// Per-location state end to end: two real producers in two locations over one sites topic, one
// of them unable to reach the fixture site (its proxy is dead), the shipped etc/consumer.yaml
// keeping state per location, and etc/alerts.yaml posting to the Alertmanager of scripts/services.
// A regional outage is one VigilSiteDegraded alert naming the region; when that region's
// producers die, it stops voting and the site is up again.
#include <csignal>
#include <random>

#include <catch2/catch.hpp>

#include "alertmanager_support.hpp"
#include "fixture_sites.hpp"
#include "kafka_support.hpp"
#include "pg_support.hpp"
#include "support.hpp"
#include "vigil/record.hpp"

namespace am = vigil::test::alertmanager;
namespace kt = vigil::test::kafka;
namespace pg = vigil::test::pg;
using namespace std::chrono_literals;
using vigil::test::Child;

namespace {

// A record as the original seed producer wrote them, with the newer `location` and `error`.
kt::Message seed_record(const std::string& site, const std::string& location, int second, bool good) {
    auto ts = vigil::format_timestamp(vigil::Timestamp(std::chrono::seconds(1'800'000'000 + second)));
    kt::Message m;
    m.key = site;
    m.value = "{\"name\":\"" + site + "\",\"url\":\"https://" + site +
              ".example/\",\"response_time\":" + (good ? "42.0" : "0.0") +
              ",\"status_code\":" + (good ? "200" : "null") + ",\"regex\":null,\"regex_check\":null,\"timestamp\":\"" +
              ts + "\",\"check_id\":\"" + site + "-" + location + "-" + std::to_string(second) + "\",\"location\":\"" +
              location + "\"" + (good ? "" : ",\"error\":\"connect\",\"error_detail\":\"Connection refused\"") + "}";
    return m;
}

// Rounds [from, to) 30 s apart: each of `good` passing, each of `bad` failing.
std::vector<kt::Message> rounds(const std::string& site, int from, int to, const std::vector<std::string>& good,
                                const std::vector<std::string>& bad) {
    std::vector<kt::Message> out;
    for (int n = from; n < to; ++n) {
        for (const auto& l : good) {
            out.push_back(seed_record(site, l, 30 * n + 1, true));
        }
        for (const auto& l : bad) {
            out.push_back(seed_record(site, l, 30 * n + 2, false));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("quorum: the issue's stream through Kafka and the shipped consumer: partial, down, partial, up",
          "[integration][locations]") {
    pg::TestDatabase db;
    auto topic = kt::unique("quorum-stream");
    kt::create_topic(topic, 3);
    Child consumer({vigil::test::agent_binary().string(), "--pipeline",
                    (vigil::test::source_dir() / "etc/consumer.yaml").string()},
                   {{"KAFKA_TOPIC", topic},
                    {"KAFKA_CONSUMER_GROUP", topic + "-consumer"},
                    {"DATABASE_URL", db.url()},
                    {"CONSUMER_METRICS_LISTEN", "127.0.0.1:0"}});
    auto site_events = [&] {
        return pg::query(db.url(),
                         "SELECT kind, coalesce(location, '-'), from_state || '>' || to_state, coalesce(cause, '-'), "
                         "coalesce((SELECT string_agg(n->>'location', ',') FROM jsonb_array_elements(locations) n), "
                         "'-') FROM site_events ORDER BY id");
    };
    auto stored = [&](int n) {
        return pg::scalar(db.url(), "SELECT to_regclass('site_location_state') IS NOT NULL") == "t" &&
               pg::scalar(db.url(), "SELECT count(*) FROM metrics") == std::to_string(n);
    };
    using Rows = std::vector<std::vector<std::string>>;
    // 20 checks from eu, all good, and 20 from us, all failing, 30 s apart.
    kt::produce(topic, rounds("shop", 0, 20, {"eu"}, {"us"}));
    if (!vigil::test::wait_until([&] { return stored(40); }, 60s)) {
        FAIL(consumer.err());
    }
    CHECK(site_events() ==
          Rows{{"location", "us", "up>down", "connect", "-"}, {"site", "-", "up>degraded", "partial", "us"}});
    CHECK(pg::scalar(db.url(),
                     "SELECT state || ' ' || consecutive_failures FROM site_location_state WHERE location = "
                     "'us'") == "down 20");
    // ap failing as well: 2 of 3, the site is down.
    kt::produce(topic, rounds("shop", 20, 24, {"eu"}, {"us", "ap"}));
    REQUIRE(vigil::test::wait_until([&] { return stored(52); }, 30s));
    CHECK(site_events().back() == std::vector<std::string>{"site", "-", "degraded>down", "connect", "ap,us"});
    // us recovering: degraded, by ap.
    kt::produce(topic, rounds("shop", 24, 27, {"eu", "us"}, {"ap"}));
    REQUIRE(vigil::test::wait_until([&] { return stored(61); }, 30s));
    CHECK(site_events().back() == std::vector<std::string>{"site", "-", "down>degraded", "partial", "ap"});
    // ap silent past location_timeout (5 m, 10 rounds): it leaves the vote, the site is up.
    kt::produce(topic, rounds("shop", 27, 40, {"eu", "us"}, {}));
    REQUIRE(vigil::test::wait_until([&] { return stored(87); }, 30s));
    auto all = site_events();
    REQUIRE(all.size() >= 2);
    CHECK(all[all.size() - 2] == std::vector<std::string>{"location", "ap", "down>silent", "connect", "-"});
    CHECK(all.back() == std::vector<std::string>{"site", "-", "degraded>up", "-", "-"});
    consumer.signal(SIGTERM);
    CHECK(consumer.wait(30s) == 0);
}

TEST_CASE(
    "quorum: a site unreachable from one of two locations is one degraded alert naming it; that location "
    "dying leaves the vote",
    "[integration][locations]") {
    vigil::test::FixtureSites fixture;
    vigil::test::TempDir dir;
    pg::TestDatabase db;
    auto sites_topic = kt::unique("quorum-sites"), metrics_topic = kt::unique("quorum-metrics");
    kt::create_topic(metrics_topic, 3);
    auto site = "quorum-" + std::to_string(std::random_device{}() % 1'000'000'000);
    auto sites = dir.write("sites.yaml", "- {name: " + site + ", url: \"" + fixture.url("/ok") + "\"}\n");
    // `us` reaches the web only through a proxy that is not there: every check fails to connect.
    auto producer = [&](const std::string& location, const std::string& extra) {
        return dir.write(
            location + ".yaml",
            "pipeline: producer\nsource:\n  plugin: http_check\n  interval: 1s\n  timeout: 900ms\n"
            "  location: " +
                location + "\n" + extra + "  sites_topic:\n    topic: " + sites_topic + "\n    group: " + sites_topic +
                "-" + location + "\n    brokers: " + kt::plaintext_brokers() +
                "\n    partitions: 1\nsinks:\n  - plugin: kafka_sink\n    brokers: " + kt::plaintext_brokers() +
                "\n    topic: " + metrics_topic + "\n");
    };
    auto eu = producer("eu", ""), us = producer("us", "  proxy: \"http://127.0.0.1:9\"\n");
    auto imported = vigil::test::run(
        {vigil::test::agent_binary().string(), "sites", "import", sites.string(), "--pipeline", eu.string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);

    auto etc = vigil::test::source_dir() / "etc";
    Child consumer({vigil::test::agent_binary().string(), "--pipeline", (etc / "consumer.yaml").string()},
                   {{"KAFKA_TOPIC", metrics_topic},
                    {"KAFKA_CONSUMER_GROUP", metrics_topic + "-consumer"},
                    {"DATABASE_URL", db.url()},
                    {"STATE_LOCATION_TIMEOUT", "8s"},
                    {"CONSUMER_METRICS_LISTEN", "127.0.0.1:0"}});
    Child alerts(
        {vigil::test::agent_binary().string(), "--pipeline", (etc / "alerts.yaml").string()},
        {{"DATABASE_URL", db.url()}, {"ALERTMANAGER_URL", am::url()}, {"ALERTS_METRICS_LISTEN", "127.0.0.1:0"}});
    // eu first, stored before us starts: the site is seen from two locations before us fails.
    Child p_eu({vigil::test::agent_binary().string(), "--pipeline", eu.string()});
    auto stored_from = [&](const std::string& location) {
        return pg::scalar(db.url(), "SELECT to_regclass('site_location_state') IS NOT NULL") == "t" &&
               pg::scalar(db.url(), "SELECT count(*) FROM site_location_state WHERE location = '" + location + "'") !=
                   "0";
    };
    std::unique_ptr<Child> p_us;
    // The agents' logs, read when a wait fails (an INFO would hold them as they were when written).
    auto logs = [&] {
        return "eu:\n" + p_eu.err() + "\nus:\n" + (p_us ? p_us->err() : "") + "\nconsumer:\n" + consumer.err() +
               "\nalerts:\n" + alerts.err();
    };
    if (!vigil::test::wait_until([&] { return stored_from("eu"); }, 60s)) {
        FAIL(logs());
    }
    p_us = std::make_unique<Child>(
        std::vector<std::string>{vigil::test::agent_binary().string(), "--pipeline", us.string()});

    auto degraded = [&] {
        auto held = am::alerts_of(site);
        return held.size() == 1 && held[0].labels["alertname"] == "VigilSiteDegraded";
    };
    if (!vigil::test::wait_until(degraded, 90s)) {
        FAIL(logs());
    }
    auto held = am::alerts_of(site);
    CHECK(held[0].labels["locations"] == "us");
    CHECK(held[0].labels["error"] == "partial");
    CHECK_THAT(held[0].annotations["locations"], Catch::StartsWith("us: connect"));
    CHECK(pg::query(db.url(), "SELECT to_state, cause FROM site_events WHERE kind = 'site' AND site = '" + site +
                                  "' ORDER BY id") == std::vector<std::vector<std::string>>{{"degraded", "partial"}});
    CHECK(pg::scalar(db.url(),
                     "SELECT count(*) FROM site_events WHERE kind = 'location' AND location = 'us' AND "
                     "to_state = 'down'") == "1");

    // The us location dies at once (kill -9): 8 s of eu's checks later it stops voting.
    p_us->signal(SIGKILL);
    p_us->wait(10s);
    auto up = [&] { return pg::scalar(db.url(), "SELECT state FROM site_state WHERE site = '" + site + "'") == "up"; };
    if (!vigil::test::wait_until(up, 60s)) {
        FAIL(logs());
    }
    CHECK_THAT(pg::scalar(db.url(), "SELECT reason FROM site_events WHERE kind = 'site' ORDER BY id DESC LIMIT 1"),
               Catch::StartsWith("us stopped voting: no check for 8s"));
    CHECK(pg::scalar(db.url(),
                     "SELECT from_state || '>' || to_state FROM site_events WHERE kind = 'location' AND "
                     "location = 'us' ORDER BY id DESC LIMIT 1") == "down>silent");
    CHECK(vigil::test::wait_until([&] { return am::alerts_of(site).empty(); }, 30s));
    for (Child* c : {&p_eu, &consumer, &alerts}) {
        c->signal(SIGTERM);
    }
    for (Child* c : {&p_eu, &consumer, &alerts}) {
        CHECK(c->wait(30s) == 0);
    }
}
