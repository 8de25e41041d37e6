// SPDX-License-Identifier: Apache-2.0
// Check locations end to end: two producers reading one sites topic as two groups (two
// locations) publish to Kafka, the shipped etc/consumer.yaml stores the checks in PostgreSQL,
// and every site has rows from both locations, each with its `location`.
#include <csignal>

#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "kafka_support.hpp"
#include "pg_support.hpp"
#include "support.hpp"

namespace kt = vigil::test::kafka;
namespace pg = vigil::test::pg;
using namespace std::chrono_literals;
using vigil::test::Child;

TEST_CASE("locations: two groups over one sites topic check every site twice; location reaches PostgreSQL",
          "[integration]") {
    constexpr int kSites = 20;
    vigil::test::FixtureSites fixture;
    vigil::test::TempDir dir;
    pg::TestDatabase db;
    auto sites_topic = kt::unique("loc-sites"), metrics_topic = kt::unique("loc-metrics");
    kt::create_topic(metrics_topic, 3);
    std::string list;
    for (int i = 0; i < kSites; ++i) {
        list += "- {name: loc-" + std::to_string(i) + ", url: \"" + fixture.url("/ok?i=" + std::to_string(i)) + "\"}\n";
    }
    auto sites = dir.write("sites.yaml", list);
    auto producer = [&](const std::string& location) {
        return dir.write(location + ".yaml",
                         "pipeline: producer\nsource:\n  plugin: http_check\n  interval: 1s\n"
                         "  timeout: 900ms\n  location: " +
                             location + "\n  sites_topic:\n    topic: " + sites_topic + "\n    group: " + sites_topic +
                             "-" + location + "\n    brokers: " + kt::plaintext_brokers() +
                             "\n    partitions: 3\nsinks:\n  - plugin: kafka_sink\n    brokers: " +
                             kt::plaintext_brokers() + "\n    topic: " + metrics_topic + "\n");
    };
    auto eu = producer("eu-west"), us = producer("us-east");
    auto imported = vigil::test::run(
        {vigil::test::agent_binary().string(), "sites", "import", sites.string(), "--pipeline", eu.string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);

    Child p1({vigil::test::agent_binary().string(), "--pipeline", eu.string()});
    Child p2({vigil::test::agent_binary().string(), "--pipeline", us.string()});
    Child consumer({vigil::test::agent_binary().string(), "--pipeline",
                    (vigil::test::source_dir() / "etc/consumer.yaml").string()},
                   {{"KAFKA_TOPIC", metrics_topic},
                    {"KAFKA_CONSUMER_GROUP", metrics_topic + "-consumer"},
                    {"DATABASE_URL", db.url()},
                    {"CONSUMER_METRICS_LISTEN", "127.0.0.1:0"}});
    auto pairs = [&] {
        // The consumer migrates as it starts: ask only once the last migration (location) is in.
        auto has = pg::query(db.url(),
                             "SELECT count(*) FROM information_schema.columns WHERE table_name = 'metrics' "
                             "AND column_name = 'location'");
        return has[0][0] == "1"
                   ? std::stoi(pg::scalar(db.url(), "SELECT count(DISTINCT (name, location)) FROM metrics"))
                   : 0;
    };
    INFO(p1.err() << p2.err() << consumer.err());
    REQUIRE(vigil::test::wait_until([&] { return pairs() == 2 * kSites; }, 60s));
    CHECK(pg::scalar(db.url(), "SELECT string_agg(DISTINCT location, ',' ORDER BY location) FROM metrics") ==
          "eu-west,us-east");
    CHECK(pg::scalar(db.url(),
                     "SELECT count(*) FROM (SELECT name FROM metrics GROUP BY name "
                     "HAVING count(DISTINCT location) = 2) both_locations") == std::to_string(kSites));
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics WHERE location IS NULL OR attempts IS DISTINCT FROM 1") ==
          "0");
    for (Child* c : {&p1, &p2, &consumer}) {
        c->signal(SIGTERM);
    }
    for (Child* c : {&p1, &p2, &consumer}) {
        CHECK(c->wait(30s) == 0);
    }
}
