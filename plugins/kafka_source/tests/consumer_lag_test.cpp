// SPDX-License-Identifier: Apache-2.0
// kafka_source in its group, against the real broker of scripts/services: consumer lag on
// /metrics as partitions move, and a slow sink that must not cost the consumer its partitions.
#include <csignal>
#include <sstream>

#include <catch2/catch.hpp>

#include "source_harness.hpp"

namespace kt = vigil::test::kafka;
using namespace vigil::test::kafka_source;
using vigil::test::TempDir;

TEST_CASE("kafka_source: a partition taken away by a rebalance leaves /metrics (its new owner reports its lag)",
          "[integration]") {
    using namespace std::chrono_literals;
    auto topic = kt::unique("lag-revoke");
    kt::create_topic(topic, 2);
    publish(topic, 200, "");
    TempDir dir;
    auto group = kt::unique("lag-revoke-group");
    auto yaml = [&](const std::string& name) {
        return dir.write(name + ".yaml", "pipeline: " + name +
                                             "\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: kafka_source\n"
                                             "  brokers: " +
                                             kt::plaintext_brokers() + "\n  topics: [" + topic +
                                             "]\n  group: " + group + "\nsinks:\n  - plugin: stdout_sink\n    path: " +
                                             (dir / (name + ".jsonl")).string() + "\n");
    };
    auto a = agent(yaml("a"));
    auto base_a = metrics_base(*a);
    INFO(a->err());
    REQUIRE_FALSE(base_a.empty());
    REQUIRE(vigil::test::wait_until([&] { return lag_by_partition(base_a, topic).size() == 2; }, 30s));
    auto b = agent(yaml("b"));
    auto base_b = metrics_base(*b);
    REQUIRE_FALSE(base_b.empty());
    // Each reports the one partition it holds; before, `a` kept reporting the one it lost.
    CHECK(vigil::test::wait_until(
        [&] {
            auto of_a = lag_by_partition(base_a, topic);
            auto of_b = lag_by_partition(base_b, topic);
            return of_a.size() == 1 && of_b.size() == 1 && of_a.begin()->first != of_b.begin()->first;
        },
        60s));
    b->signal(SIGTERM);
    CHECK(b->wait(30s) == 0);
    a->signal(SIGTERM);
    CHECK(a->wait(30s) == 0);
}

TEST_CASE("kafka_source: consumer lag per partition is served on /metrics and counts what is not acknowledged",
          "[integration]") {
    auto topic = kt::unique("lag");
    kt::create_topic(topic, 1);
    publish(topic, 2000, "");  // numeric ids, as flaky_sink wants
    TempDir dir;
    // A slow sink (500 ms a batch of 100) keeps records unacknowledged for a while.
    auto file =
        dir.write("c.yaml",
                  "pipeline: lag\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: kafka_source\n"
                  "  brokers: " +
                      kt::plaintext_brokers() + "\n  topics: [" + topic + "]\n  group: " + kt::unique("lag-group") +
                      "\n  max_batch: 100\n"
                      "sinks:\n  - plugin: flaky_sink\n    delay: 500ms\n");
    auto a = agent(file, {"--plugin-dir", vigil::test::test_plugin_dir().string()});
    auto base = metrics_base(*a);
    REQUIRE_FALSE(base.empty());
    auto lag = [&]() -> std::optional<double> {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing the scrapes
        auto metrics = vigil::test::run({"/usr/bin/curl", "-sS", base + "/metrics"}).out;
        std::istringstream in(metrics);
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("vigil_kafka_source_consumer_lag{", 0) == 0 &&
                line.find("topic=\"" + topic + "\"") != std::string::npos &&
                line.find("partition=\"0\"") != std::string::npos) {
                return std::stod(line.substr(line.rfind(' ') + 1));
            }
        }
        return std::nullopt;
    };
    std::optional<double> seen;
    bool reported = vigil::test::wait_until([&] { return (seen = lag()).has_value(); }, std::chrono::seconds(20));
    INFO(a->err());
    REQUIRE(reported);
    INFO("first lag reported: " << *seen);
    CHECK(*seen > 0);
    CHECK(*seen <= 2000);
    CHECK(vigil::test::wait_until([&] { return lag() == 0.0; }, std::chrono::seconds(40)));
    a->signal(SIGTERM);
    CHECK(a->wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE("kafka_source: a sink slower than max.poll.interval.ms does not cost the consumer its partitions",
          "[integration]") {
    // Each write takes 8 s and one batch may be in flight, so the second batch waits 8 s for room:
    // longer than the group's 6 s poll deadline. A consumer that stopped polling while it waited
    // would be expelled, rejoin, and read the first batch again (its commit refused meanwhile).
    auto topic = kt::unique("slow");
    auto group = kt::unique("slow-group");
    kt::create_topic(topic, 1);
    constexpr int kRecords = 20;
    publish(topic, kRecords, "");  // numeric ids, as flaky_sink wants
    TempDir dir;
    auto out = dir / "out.jsonl";
    auto file = dir.write("c.yaml",
                          "pipeline: slow\nmax_in_flight: 1\nsource:\n  plugin: kafka_source\n"
                          "  brokers: " +
                              kt::plaintext_brokers() + "\n  topics: [" + topic + "]\n  group: " + group +
                              "\n  max_batch: 10\n  max_batch_delay: 100ms\n  session_timeout: 6s\n"
                              "  librdkafka:\n    max.poll.interval.ms: \"6000\"\n"
                              "sinks:\n  - plugin: flaky_sink\n    delay: 8s\n    path: " +
                              out.string() + "\n");
    auto a = agent(file, {"--plugin-dir", vigil::test::test_plugin_dir().string()});
    bool all_committed =
        vigil::test::wait_until([&] { return committed_total(group, topic) == kRecords; }, std::chrono::seconds(90));
    a->signal(SIGTERM);
    auto code = a->wait(std::chrono::seconds(60));
    auto log = a->err();
    INFO(log);
    REQUIRE(all_committed);
    REQUIRE(code == 0);
    auto ids = ids_in(out);
    std::set<std::string> unique(ids.begin(), ids.end());
    CHECK(unique.size() == kRecords);
    CHECK(ids.size() == kRecords);  // nothing read twice
    auto count = [&](const std::string& s) {
        std::size_t n = 0;
        for (auto at = log.find(s); at != std::string::npos; at = log.find(s, at + 1)) {
            ++n;
        }
        return n;
    };
    CHECK(count("assigned 1 partition(s)") == 1);  // never expelled, never re-assigned
    CHECK(count("paused 1 partition(s) and polling on") >= 1);
}
