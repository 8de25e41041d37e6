// SPDX-License-Identifier: Apache-2.0
// kafka_sink against the real broker of scripts/services.
#include <csignal>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "kafka_sink.hpp"
#include "kafka_sink_test_support.hpp"
#include "kafka_support.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

namespace kt = vigil::test::kafka;
using vigil::plugins::kafka_sink::KafkaSink;
using vigil::test::kafka_sink::make_sink;

namespace {

vigil::Batch records(int n, const std::string& prefix, std::uint64_t sequence = 1) {
    vigil::Batch b;
    b.sequence = sequence;
    for (int i = 0; i < n; ++i) {
        vigil::CheckRecord r;
        r.name = prefix + "-site-" + std::to_string(i % 7);
        r.url = "https://example.com/" + std::to_string(i);
        r.response_time = 10 + i;
        r.status_code = 200;
        r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'800'000'000'000'000 + i));
        r.check_id = prefix + "-" + std::to_string(i);
        b.records.push_back({r, {}});
    }
    return b;
}

// kafka_sink's options over SASL_SSL/PLAIN, as KAFKA_USERNAME unless `user` is given.
std::string sasl_yaml(const std::string& topic, const std::string& password, const std::string& ca,
                      const std::string& user = "") {
    return "brokers: " + kt::env("KAFKA_BOOTSTRAP_SERVERS") + "\ntopic: " + topic +
           "\nsecurity:\n  protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n  username: " +
           (user.empty() ? kt::env("KAFKA_USERNAME") : user) + "\n  password: \"" + password + "\"\n  ca_file: " + ca +
           "\n";
}

// `yaml` with every line indented by `prefix`: a sink's options placed under `sinks:`.
std::string indented(const std::string& yaml, const std::string& prefix) {
    std::string out;
    std::istringstream in(yaml);
    for (std::string line; std::getline(in, line);) {
        out += prefix + line + "\n";
    }
    return out;
}

// Writes three records to a topic that refuses them all (missing, not authorised): an outage,
// not poison. The write returns Retry promptly naming the topic, health() says the same, and
// nothing is dead-lettered. `fix` then makes the topic writable, and the same batch, written
// again as the core would, arrives once. Returns the outage's reason.
std::string write_through_outage(KafkaSink& sink, const std::string& topic, const std::function<void()>& fix) {
    REQUIRE(sink.start().ok());
    auto batch = records(3, "refused");
    auto t0 = std::chrono::steady_clock::now();
    auto result = sink.write(batch);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));  // told, not waited out
    REQUIRE(result.kind == vigil::WriteResult::Kind::Retry);
    CHECK_THAT(result.error, Catch::Contains("topic " + topic));
    CHECK(result.rejected.empty());
    auto health = sink.health();
    CHECK_FALSE(health.ok());
    CHECK(health.message() == result.error);
    fix();
    // Written again as the core does after a backoff, until it is accepted or 60 s passed.
    vigil::WriteResult again = vigil::WriteResult::retry("not yet");
    vigil::test::wait_until(
        [&] {
            again = sink.write(batch);
            return again.kind == vigil::WriteResult::Kind::Accepted;
        },
        std::chrono::seconds(60));
    CHECK(again.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(again.rejected.empty());
    CHECK(sink.health().ok());
    sink.stop();
    CHECK(kt::read_all(topic, 3).size() == 3);
    return result.error;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("kafka_sink: a batch over PLAINTEXT arrives once, keyed by site name, as the record's JSON",
          "[integration]") {
    auto topic = kt::unique("sink-plain");
    kt::create_topic(topic, 3);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\n");
    REQUIRE(sink->start().ok());
    auto batch = records(1000, "p");
    auto result = sink->write(batch);
    REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(result.rejected.empty());
    sink->stop();

    auto got = kt::read_all(topic, 1000);
    REQUIRE(got.size() == 1000);
    CHECK(kt::count(topic) == 1000);
    std::map<std::string, std::int32_t> partition_of_key;
    std::map<std::string, std::int64_t> last_index_of_key;
    for (const auto& m : got) {
        auto decoded = vigil::decode_json(m.value);
        INFO(m.value);
        REQUIRE(decoded);
        CHECK(m.key == decoded.record->name);
        auto index = std::stoll(decoded.record->check_id.substr(2));
        CHECK(*decoded.record == batch.records[static_cast<std::size_t>(index)].check);
        // One site, one partition, in order.
        auto [it, fresh] = partition_of_key.emplace(m.key, m.partition);
        CHECK(it->second == m.partition);
        if (!fresh) {
            CHECK(last_index_of_key[m.key] < index);
        }
        last_index_of_key[m.key] = index;
    }
}

TEST_CASE("kafka_sink: SASL_SSL with the CA verified delivers; the healthcheck passes", "[integration]") {
    auto topic = kt::unique("sink-sasl");
    kt::create_topic(topic, 1);
    auto sink = make_sink(sasl_yaml(topic, kt::env("KAFKA_PASSWORD"), kt::env("KAFKA_CA_FILE")));
    CHECK(sink->healthcheck().message() == "");
    REQUIRE(sink->start().ok());
    auto result = sink->write(records(20, "s"));
    REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
    sink->stop();
    CHECK(kt::read_all(topic, 20).size() == 20);
}

TEST_CASE(
    "kafka_sink: mutual TLS: the client certificate is presented and accepted; without one the broker's "
    "refusal is a clear error within seconds",
    "[integration]") {
    auto topic = kt::unique("sink-mtls");
    kt::create_topic(topic, 1);
    auto base = "brokers: " + kt::env("KAFKA_MTLS_BOOTSTRAP_SERVERS") + "\ntopic: " + topic +
                "\nsecurity:\n  protocol: SSL\n  ca_file: " + kt::env("KAFKA_CA_FILE") + "\n";
    SECTION("with the certificate") {
        auto sink = make_sink(base + "  cert_file: " + kt::env("KAFKA_CLIENT_CERT_FILE") +
                              "\n  key_file: " + kt::env("KAFKA_CLIENT_KEY_FILE") + "\n");
        CHECK(sink->healthcheck().message() == "");
        REQUIRE(sink->start().ok());
        auto result = sink->write(records(10, "t"));
        REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
        CHECK(result.rejected.empty());
        sink->stop();
        CHECK(kt::read_all(topic, 10).size() == 10);
    }
    SECTION("without one") {
        auto t0 = std::chrono::steady_clock::now();
        auto st = make_sink(base)->healthcheck();
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
        CHECK_FALSE(st.ok());
        CHECK_THAT(st.message(),
                   Catch::StartsWith("cannot reach Kafka brokers " + kt::env("KAFKA_MTLS_BOOTSTRAP_SERVERS")));
        // TLS 1.3 reports the missing certificate as an alert on the first read after the handshake.
        CHECK_THAT(st.message(), Catch::Contains("alert") && Catch::Contains("certificate"));
        CHECK_THAT(st.message(), Catch::Contains("see security.cert_file and key_file"));
    }
}

TEST_CASE("kafka_sink: a wrong password and an untrusted CA are clear errors within seconds", "[integration]") {
    auto topic = kt::unique("sink-refused");
    SECTION("wrong password") {
        auto t0 = std::chrono::steady_clock::now();
        auto st = make_sink(sasl_yaml(topic, "not-the-password", kt::env("KAFKA_CA_FILE")))->healthcheck();
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
        CHECK_FALSE(st.ok());
        CHECK_THAT(st.message(), Catch::StartsWith("cannot reach Kafka brokers " + kt::env("KAFKA_BOOTSTRAP_SERVERS")));
        CHECK_THAT(st.message(), Catch::Contains("Authentication failed"));
    }
    SECTION("untrusted CA") {
        auto t0 = std::chrono::steady_clock::now();
        auto st =
            make_sink(sasl_yaml(topic, kt::env("KAFKA_PASSWORD"), kt::env("VIGIL_UNTRUSTED_CA_FILE")))->healthcheck();
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
        CHECK_FALSE(st.ok());
        CHECK_THAT(st.message(), Catch::Contains("certificate verify failed"));
    }
    SECTION("a running agent logs the authentication failure once, promptly, and keeps the records") {
        vigil::test::TempDir dir;
        auto file = dir.write("p.yaml",
                              "pipeline: wrongpw\ndrain_timeout: 1s\nsource:\n  plugin: counting_source\n"
                              "  count: 0\n  batch_size: 10\n  interval: 100ms\nsinks:\n  - plugin: kafka_sink\n" +
                                  indented(sasl_yaml(topic, "wrong", kt::env("KAFKA_CA_FILE")), "    "));
        vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string(), "--plugin-dir",
                                  vigil::test::test_plugin_dir().string()});
        CHECK(vigil::test::wait_until([&] { return agent.err().find("Authentication failed") != std::string::npos; },
                                      std::chrono::seconds(10)));
        agent.signal(SIGTERM);
        auto code = agent.wait(std::chrono::seconds(30));
        INFO(agent.err());
        REQUIRE(code);
        CHECK(*code == 0);  // a requested stop is a clean exit; the log counts what was not delivered
        CHECK(occurrences(agent.err(), "cannot reach Kafka brokers") == 1);
        CHECK_THAT(agent.err(), Catch::Contains("could not be delivered"));
        CHECK_THAT(agent.err(), !Catch::Contains("Purged"));
    }
}

TEST_CASE("kafka_sink: a record too large is refused for good with topic and reason; the rest arrive",
          "[integration]") {
    auto topic = kt::unique("sink-large");
    kt::create_topic(topic, 1);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic +
                          "\nlibrdkafka:\n  message.max.bytes: \"4000\"\n");
    REQUIRE(sink->start().ok());
    auto batch = records(10, "l");
    batch.records[3].check.error_detail = std::string(10'000, 'x');
    auto result = sink->write(batch);
    REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(result.rejected.size() == 1);
    CHECK(result.rejected[0].index == 3);
    CHECK_THAT(result.rejected[0].reason, Catch::Contains("topic " + topic));
    CHECK_THAT(result.rejected[0].reason, Catch::Contains("MSG_SIZE_TOO_LARGE"));
    CHECK_FALSE(result.rejected[0].dead_lettered);
    sink->stop();
    CHECK(kt::read_all(topic, 9).size() == 9);
}

TEST_CASE(
    "kafka_sink: broker killed with SIGKILL and restarted mid-stream: nothing acked is lost, nothing "
    "is written twice, the outage is logged once and its end once",
    "[fault]") {
    auto topic = kt::unique("sink-kill");
    kt::create_topic(topic, 3);
    vigil::test::TempDir dir;
    auto acks = dir / "acks.txt";
    auto file =
        dir.write("p.yaml",
                  "pipeline: brokerkill\nsource:\n  plugin: counting_source\n  count: 0\n"
                  "  batch_size: 100\n  interval: 20ms\n  ack_file: " +
                      acks.string() + "\nsinks:\n  - plugin: kafka_sink\n    brokers: " + kt::plaintext_brokers() +
                      "\n    topic: " + topic + "\n");
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string(), "--plugin-dir",
                              vigil::test::test_plugin_dir().string()});
    auto acked_batches = [&] { return vigil::test::read_lines(acks).size(); };
    REQUIRE(vigil::test::wait_until([&] { return acked_batches() >= 20; }, std::chrono::seconds(30)));
    auto services = (vigil::test::source_dir() / "scripts" / "services").string();
    REQUIRE(vigil::test::run({services, "kill", "kafka"}).code == 0);
    auto during = acked_batches();
    REQUIRE(vigil::test::run({services, "start", "kafka"}, {}, std::chrono::seconds(120)).code == 0);
    REQUIRE(vigil::test::wait_until([&] { return acked_batches() >= during + 20; }, std::chrono::seconds(60)));
    agent.signal(SIGTERM);
    auto code = agent.wait(std::chrono::seconds(60));
    INFO(agent.err());
    REQUIRE(code == 0);

    std::set<std::string> acked;
    for (const auto& line : vigil::test::read_lines(acks)) {
        std::istringstream in(line);
        std::uint64_t first = 0;
        std::size_t size = 0;
        std::string status;
        in >> first >> size >> status;
        REQUIRE(status == "delivered");
        for (std::size_t i = 0; i < size; ++i) {
            acked.insert(std::to_string(first + i));
        }
    }
    auto in_topic = kt::read_all(topic, acked.size(), std::chrono::seconds(60));
    std::map<std::string, int> seen;
    for (const auto& m : in_topic) {
        auto d = vigil::decode_json(m.value);
        REQUIRE(d);
        ++seen[d.record->check_id];
    }
    std::size_t missing = 0, duplicated = 0;
    for (const auto& id : acked) {
        missing += seen.count(id) == 0 ? 1 : 0;
    }
    for (const auto& [id, n] : seen) {
        duplicated += n > 1 ? 1 : 0;
    }
    UNSCOPED_INFO("acked " << acked.size() << " records, topic holds " << in_topic.size());
    CHECK(missing == 0);
    CHECK(duplicated == 0);
    CHECK(occurrences(agent.err(), "cannot reach Kafka brokers") == 1);
    CHECK(occurrences(agent.err(), "reachable again") == 1);
}

TEST_CASE(
    "kafka_sink: a topic the user may not write to is an outage naming the topic and the broker, never "
    "dead letters; granting the right ends it",
    "[integration]") {
    // The user may write to another topic only: enough for the idempotent producer's
    // InitProducerId (Kafka asks for write access to some topic), not for this one.
    auto topic = kt::unique("sink-forbidden");
    kt::create_topic(topic, 1);
    auto user = kt::env("KAFKA_DENIED_USERNAME");
    kt::allow_write(user, topic + "-elsewhere");
    auto sink = make_sink(sasl_yaml(topic, kt::env("KAFKA_DENIED_PASSWORD"), kt::env("KAFKA_CA_FILE"), user));
    auto reason = write_through_outage(*sink, topic, [&] { kt::allow_write(user, topic); });
    CHECK_THAT(reason, Catch::Contains(kt::env("KAFKA_BOOTSTRAP_SERVERS")));
    CHECK_THAT(reason, Catch::Contains("TOPIC_AUTHORIZATION_FAILED"));
}

TEST_CASE(
    "kafka_sink: a user with no rights at all: an outage said once a minute, the sink down on /metrics, "
    "not one record dead-lettered",
    "[integration]") {
    // Kafka refuses such a user the idempotent producer id (cluster authorization failed), a
    // fatal error that returns with every new producer the sink creates.
    auto topic = kt::unique("sink-nobody");
    kt::create_topic(topic, 1);
    vigil::test::TempDir dir;
    auto dead = dir / "dead.jsonl";
    auto file = dir.write(
        "p.yaml", "pipeline: nobody\ndrain_timeout: 2s\ndead_letter_file: " + dead.string() +
                      "\nmetrics: {listen: \"127.0.0.1:0\"}\nbuffer: {type: disk, path: " + (dir / "buffer").string() +
                      "}\nsource:\n  plugin: counting_source\n"
                      "  count: 0\n  batch_size: 5\n  interval: 200ms\nsinks:\n  - plugin: kafka_sink\n"
                      "    retry: {initial: 100ms, max: 500ms}\n" +
                      indented(sasl_yaml(topic, kt::env("KAFKA_NOBODY_PASSWORD"), kt::env("KAFKA_CA_FILE"),
                                         kt::env("KAFKA_NOBODY_USERNAME")),
                               "    "));
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string(), "--plugin-dir",
                              vigil::test::test_plugin_dir().string()});
    // Several attempts, each meeting the fatal error again; the source goes on into the buffer.
    CHECK(vigil::test::wait_until(
        [&] {
            auto m = vigil::test::metrics_of(agent);
            return vigil::test::metric_value(m, "vigil_sink_retries_total{instance=\"kafka_sink.0\"}") >= 5 &&
                   vigil::test::metric_value(m, "vigil_sink_up{instance=\"kafka_sink.0\"}") == 0;
        },
        std::chrono::seconds(60)));
    agent.signal(SIGTERM);
    auto code = agent.wait(std::chrono::seconds(30));
    auto log = agent.err();
    INFO(log);
    REQUIRE(code);
    CHECK(*code == 0);
    // Five attempts or more, one report: the outage is said once a minute, not once an attempt.
    CHECK(occurrences(log, "the topic refuses every record, so none is dead-lettered") == 1);
    CHECK(occurrences(log, "Kafka: Fatal error") <= 1);
    CHECK_FALSE(std::filesystem::exists(dead));
    CHECK(kt::count(topic) == 0);
    CHECK_THAT(log, Catch::Contains("records stay in the buffer"));
}

TEST_CASE(
    "kafka_sink: a topic that does not exist, with auto-creation off, is an outage naming it until it is "
    "created",
    "[integration]") {
    auto topic = kt::unique("sink-missing");
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic +
                          "\nlibrdkafka:\n  allow.auto.create.topics: \"false\"\n"
                          "  topic.metadata.propagation.max.ms: \"1000\"\n");
    auto reason = write_through_outage(*sink, topic, [&] { kt::create_topic(topic, 1); });
    CHECK_THAT(reason, Catch::Contains("UNKNOWN_TOPIC") || Catch::Contains("Unknown topic"));
}
