// SPDX-License-Identifier: Apache-2.0
// kafka_source (with kafka_sink) against the real broker of scripts/services, run through the
// agent binary the way a deployment runs it.
#include <csignal>
#include <map>
#include <sstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "dead_letter_queue.hpp"
#include "kafka_sink.hpp"
#include "kafka_support.hpp"
#include "plugin_config.hpp"
#include "poison_corpus.hpp"
#include "source_harness.hpp"
#include "support.hpp"

namespace kt = vigil::test::kafka;
using vigil::test::Child;
using vigil::test::TempDir;

using namespace vigil::test::kafka_source;

TEST_CASE(
    "kafka_source: 100,000 records through kafka_sink then kafka_source arrive exactly once, offsets "
    "committed to the end",
    "[integration]") {
    auto topic = kt::unique("roundtrip");
    auto group = kt::unique("roundtrip-group");
    kt::create_topic(topic, 3);
    constexpr int kRecords = 100'000;
    publish(topic, kRecords, "r");
    REQUIRE(kt::count(topic) == kRecords);

    TempDir dir;
    auto out = dir / "out.jsonl";
    auto file = dir.write("consumer.yaml", consumer_yaml(topic, group, out));
    auto a = agent(file, {"--once"});
    auto code = a->wait(std::chrono::seconds(180));
    INFO(a->err());
    REQUIRE(code == 0);
    auto ids = ids_in(out);
    std::set<std::string> unique(ids.begin(), ids.end());
    CHECK(ids.size() == kRecords);
    CHECK(unique.size() == kRecords);
    CHECK(unique.count("r-0") == 1);
    CHECK(unique.count("r-99999") == 1);
    CHECK(committed_total(group, topic) == kRecords);
}

TEST_CASE("kafka_source: reads over SASL_SSL with the CA verified", "[integration]") {
    auto topic = kt::unique("source-sasl");
    kt::create_topic(topic, 1);
    publish(topic, 50, "s");
    TempDir dir;
    auto out = dir / "out.jsonl";
    auto file = dir.write(
        "c.yaml", "pipeline: c\nsource:\n  plugin: kafka_source\n  brokers: " + kt::env("KAFKA_BOOTSTRAP_SERVERS") +
                      "\n  topics: [" + topic + "]\n  group: " + kt::unique("g") +
                      "\n  security:\n    protocol: SASL_SSL\n    username: " + kt::env("KAFKA_USERNAME") +
                      "\n    password: ${KAFKA_PASSWORD}\n    ca_file: " + kt::env("KAFKA_CA_FILE") +
                      "\nsinks:\n  - plugin: stdout_sink\n    path: " + out.string() + "\n");
    auto a = agent(file, {"--once"});
    auto code = a->wait(std::chrono::seconds(60));
    INFO(a->err());
    REQUIRE(code == 0);
    CHECK(ids_in(out).size() == 50);
    CHECK_THAT(a->err(), !Catch::Contains("KAFKA_PASSWORD"));
}

TEST_CASE(
    "kafka_source: every kind of poison message lands in the dead-letter topic with its reason and "
    "coordinates while the good records pass",
    "[badinput]") {
    auto topic = kt::unique("poison");
    auto group = kt::unique("poison-group");
    kt::create_topic(topic, 1);
    auto corpus = vigil::test::poison_corpus();
    std::vector<kt::Message> messages;
    std::map<std::int64_t, std::string> expect_at;  // offset -> reason fragment
    const std::string seven = R"({"name":"orig","url":"https://example.com","response_time":12.5,"status_code":200,)"
                              R"("regex":null,"regex_check":null,"timestamp":"2026-11-28 01:02:03.456789"})";
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        messages.push_back({"good", vigil::encode_json([&] {
                                vigil::CheckRecord r;
                                r.name = "good";
                                r.url = "https://example.com/";
                                r.check_id = "good-" + std::to_string(i);
                                r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000));
                                return r;
                            }()),
                            0});
        auto value = corpus[i].value;
        if (corpus[i].kind == "over max_message_bytes") {
            value = value.substr(0, 100'000);  // over the 64KiB set below, under the broker's own limit
        }
        expect_at[static_cast<std::int64_t>(messages.size())] = corpus[i].expect;
        messages.push_back({"bad-" + std::to_string(i), value, 0, -1, {{"origin-header", corpus[i].kind}}});
    }
    messages.push_back({"orig", seven, 0});
    kt::produce(topic, messages);

    TempDir dir;
    auto out = dir / "out.jsonl";
    auto file = dir.write("c.yaml", consumer_yaml(topic, group, out, "  max_message_bytes: 64KiB\n"));
    auto a = agent(file, {"--once"});
    auto code = a->wait(std::chrono::seconds(90));
    INFO(a->err());
    REQUIRE(code == 0);

    auto ids = ids_in(out);
    CHECK(ids.size() == corpus.size() + 1);  // the good ones and the original seven-field message
    CHECK(corpus.size() >= 30);
    auto dead = kt::read_all(topic + ".dlq", corpus.size());
    REQUIRE(dead.size() == corpus.size());
    for (const auto& d : dead) {
        using namespace vigil::plugins::kafka_source;
        INFO(d.headers.at(kReasonHeader));
        REQUIRE(d.headers.count(kOffsetHeader) == 1);
        auto offset = std::stoll(d.headers.at(kOffsetHeader));
        REQUIRE(expect_at.count(offset) == 1);
        CHECK_THAT(d.headers.at(kReasonHeader), Catch::Contains(expect_at[offset]));
        CHECK(d.headers.at(kTopicHeader) == topic);
        CHECK(d.headers.at(kPartitionHeader) == "0");
        CHECK(d.headers.count("origin-header") == 1);  // the message's own headers are kept
        CHECK(d.key == "bad-" + std::to_string((offset - 1) / 2));
        if (d.headers.at("origin-header") == "over max_message_bytes") {
            CHECK(d.headers.at(kTruncatedHeader) == "100000");
            CHECK(d.value.size() == 64 * 1024);
        }
    }
    CHECK(committed_total(group, topic) == static_cast<std::int64_t>(messages.size()));
    CHECK_THAT(a->err(), Catch::Contains("offset=1: not a check result: empty message"));
}

using namespace std::chrono_literals;

TEST_CASE(
    "kafka_source: a dead-letter topic that refuses pauses reading at dead_letter_backlog; nothing is "
    "skipped once it takes the letters",
    "[integration]") {
    auto topic = kt::unique("dlq-backlog");
    auto group = kt::unique("dlq-backlog-group");
    auto user = kt::env("KAFKA_DENIED_USERNAME");
    kt::create_topic(topic, 1);
    kt::create_topic(topic + ".dlq", 1);
    kt::allow_read(user, topic, group);  // reading is allowed; writing the dead letters is not, yet
    std::vector<kt::Message> messages;
    const std::string poison(16 * 1024, 'x');  // not JSON: each one a 16 KiB dead letter
    for (int i = 0; i < 300; ++i) {
        messages.push_back({"bad-" + std::to_string(i), poison, 0});
    }
    for (int i = 0; i < 20; ++i) {
        vigil::CheckRecord r;
        r.name = "good";
        r.url = "https://example.com/";
        r.check_id = "good-" + std::to_string(i);
        r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000));
        messages.push_back({"good", vigil::encode_json(r), 0});
    }
    kt::produce(topic, messages);
    TempDir dir;
    auto out = dir / "out.jsonl";
    auto file = dir.write("c.yaml",
                          "pipeline: c\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: kafka_source\n"
                          "  brokers: " +
                              kt::env("KAFKA_BOOTSTRAP_SERVERS") + "\n  topics: [" + topic + "]\n  group: " + group +
                              "\n  dead_letter_backlog: 1MiB\n  security:\n"
                              "    protocol: SASL_SSL\n    username: " +
                              user + "\n    password: " + kt::env("KAFKA_DENIED_PASSWORD") +
                              "\n    ca_file: " + kt::env("KAFKA_CA_FILE") +
                              "\nsinks:\n  - plugin: stdout_sink\n    path: " + out.string() + "\n");
    auto a = agent(file);
    auto metric = [&](const std::string& series) {
        return vigil::test::metric_value(vigil::test::metrics_of(*a), series);
    };
    const std::string read = "vigil_kafka_source_messages_total{instance=\"kafka_source.0\"}";
    // The first 320 arrive before the consumer does and are read (its first second after an
    // assign never pauses); then 5 MiB of letters wait, past the 1 MiB backlog: it pauses.
    REQUIRE(vigil::test::wait_until(
        [&] { return metric("vigil_kafka_source_dead_letter_pauses_total{instance=\"kafka_source.0\"}") >= 1; }, 60s));
    CHECK(metric(read) == 320);
    REQUIRE(vigil::test::wait_until([&] { return ids_in(out).size() == 20; }, 30s));
    CHECK_THAT(a->err(), Catch::Contains("wait for the dead-letter topic's confirmation: pausing the partitions"));
    // While the letters wait, a second wave stays unread.
    kt::produce(topic, messages);
    CHECK_FALSE(vigil::test::wait_until([&] { return metric(read) > 320; }, 3s));
    CHECK(committed_total(group, topic) == 0);  // the first letter holds every offset after it
    // The right granted: the letters go (through a new producer), reading resumes, nothing skipped.
    kt::allow_write(user, topic + ".dlq");
    bool resumed = vigil::test::wait_until([&] { return ids_in(out).size() == 40; }, 90s);
    INFO(a->err());
    REQUIRE(resumed);
    CHECK(kt::read_all(topic + ".dlq", 600).size() == 600);
    REQUIRE(vigil::test::wait_until([&] { return committed_total(group, topic) == 640; }, 30s));
    a->signal(SIGTERM);
    CHECK(a->wait(30s) == 0);
}

TEST_CASE(
    "kafka_source: broker killed and restarted, then the consumer killed: it resumes from its committed "
    "offsets and every record arrives",
    "[fault]") {
    auto topic = kt::unique("resume");
    auto group = kt::unique("resume-group");
    kt::create_topic(topic, 3);
    constexpr int kRecords = 30'000;
    std::thread producer([&] { publish(topic, kRecords, "k", 500, std::chrono::milliseconds(40)); });
    JoinOnExit join{producer};

    TempDir dir;
    auto out1 = dir / "out1.jsonl", out2 = dir / "out2.jsonl";
    auto extra = "  max_batch: 200\n";
    auto first = agent(dir.write("c1.yaml", consumer_yaml(topic, group, out1, extra)));
    REQUIRE(vigil::test::wait_until([&] { return ids_in(out1).size() >= 3000; }, std::chrono::seconds(60)));
    auto services = (vigil::test::source_dir() / "scripts" / "services").string();
    REQUIRE(vigil::test::run({services, "kill", "kafka"}).code == 0);
    REQUIRE(vigil::test::run({services, "start", "kafka"}, {}, std::chrono::seconds(120)).code == 0);
    auto after_restart = ids_in(out1).size();
    REQUIRE(
        vigil::test::wait_until([&] { return ids_in(out1).size() >= after_restart + 3000; }, std::chrono::seconds(90)));

    first->signal(SIGKILL);
    first->wait();
    UNSCOPED_INFO("first consumer's log:\n" << first->err());
    auto seen_by_first = ids_in(out1);
    // Every record below the committed offsets was stored by the first consumer (a commit
    // follows the sink's acknowledgement); the second must start exactly there.
    auto committed_at_kill = committed_total(group, topic);
    auto second = agent(dir.write("c2.yaml", consumer_yaml(topic, group, out2, extra)));
    producer.join();
    std::set<std::string> all;
    REQUIRE(vigil::test::wait_until(
        [&] {
            all = ids_in_all({out1, out2});
            return all.size() == kRecords;
        },
        std::chrono::seconds(120)));
    // Every id is stored once the second consumer re-read the first's uncommitted tail, but it may
    // still hold part of that tail (records the first stored, read again, not yet handed on): stop
    // it only once it committed the end, or SIGTERM drops those and the counts below fall short.
    REQUIRE(
        vigil::test::wait_until([&] { return committed_total(group, topic) == kRecords; }, std::chrono::seconds(60)));
    second->signal(SIGTERM);
    auto code = second->wait(std::chrono::seconds(60));
    INFO(second->err());
    REQUIRE(code == 0);

    // The second consumer started from the committed offsets: it read again at most what was in
    // flight when the first was killed (max_in_flight batches of max_batch, plus one being filled).
    std::set<std::string> first_set(seen_by_first.begin(), seen_by_first.end());
    std::size_t read_again = 0;
    for (const auto& id : ids_in(out2)) {
        read_again += first_set.count(id);
    }
    UNSCOPED_INFO("first consumer stored " << first_set.size() << ", committed " << committed_at_kill
                                           << ", second read again " << read_again);
    CHECK(committed_at_kill > 0);
    CHECK(static_cast<std::int64_t>(read_again) == static_cast<std::int64_t>(first_set.size()) - committed_at_kill);
    CHECK(all.size() == kRecords);
    CHECK(committed_total(group, topic) == kRecords);
}

TEST_CASE(
    "kafka_source: two consumers in one group, one killed mid-stream: every record is processed at least "
    "once",
    "[fault]") {
    auto topic = kt::unique("group");
    auto group = kt::unique("group-group");
    kt::create_topic(topic, 4);
    constexpr int kRecords = 20'000;
    std::thread producer([&] { publish(topic, kRecords, "g", 250, std::chrono::milliseconds(50)); });
    JoinOnExit join{producer};

    TempDir dir;
    auto out1 = dir / "out1.jsonl", out2 = dir / "out2.jsonl";
    auto extra = "  max_batch: 100\n  session_timeout: 6s\n";
    auto one = agent(dir.write("c1.yaml", consumer_yaml(topic, group, out1, extra)));
    auto two = agent(dir.write("c2.yaml", consumer_yaml(topic, group, out2, extra)));
    // Both members hold partitions and have stored records before one dies.
    REQUIRE(vigil::test::wait_until([&] { return ids_in(out1).size() >= 500 && ids_in(out2).size() >= 500; },
                                    std::chrono::seconds(60)));
    one->signal(SIGKILL);
    one->wait();
    producer.join();
    std::set<std::string> all;
    REQUIRE(vigil::test::wait_until(
        [&] {
            all = ids_in_all({out1, out2});
            return all.size() == kRecords;
        },
        std::chrono::seconds(90)));
    two->signal(SIGTERM);
    auto code = two->wait(std::chrono::seconds(60));
    INFO(two->err());
    REQUIRE(code == 0);
    CHECK(all.size() == kRecords);
    CHECK_THAT(two->err(), Catch::Contains("assigned 4 partition(s)"));  // it took the dead member's share
    CHECK(committed_total(group, topic) == kRecords);
}

TEST_CASE(
    "kafka_source: a fatal error (a static member fenced by another with its group.instance.id) replaces "
    "the consumer, which reads on",
    "[integration]") {
    auto topic = kt::unique("fenced");
    auto group = kt::unique("fenced-group");
    auto instance = kt::unique("fenced-instance");
    kt::create_topic(topic, 1);
    publish(topic, 50, "before");
    TempDir dir;
    auto out = dir / "out.jsonl";
    auto a = agent(dir.write(
        "c.yaml", consumer_yaml(topic, group, out,
                                "  session_timeout: 6s\n  librdkafka:\n    group.instance.id: " + instance + "\n")));
    REQUIRE(vigil::test::wait_until([&] { return ids_in(out).size() >= 50; }, std::chrono::seconds(60)));

    // Another consumer joins with the same static identity: the coordinator fences the agent's.
    char err[512] = "";
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", kt::plaintext_brokers()},
                                                          {"group.id", group},
                                                          {"group.instance.id", instance},
                                                          {"session.timeout.ms", "6000"}}) {
        REQUIRE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
    }
    rd_kafka_t* intruder = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE(intruder != nullptr);
    rd_kafka_poll_set_consumer(intruder);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    REQUIRE(rd_kafka_subscribe(intruder, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(topics);
    bool fenced = vigil::test::wait_until(
        [&] {
            if (rd_kafka_message_t* m = rd_kafka_consumer_poll(intruder, 100)) {
                rd_kafka_message_destroy(m);
            }
            return a->err().find("hit a fatal error") != std::string::npos;
        },
        std::chrono::seconds(60));
    // The agent's new consumer takes the identity back, fencing the intruder in turn.
    rd_kafka_destroy_flags(intruder, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    INFO(a->err());
    REQUIRE(fenced);
    CHECK_THAT(a->err(), Catch::Contains("FENCED_INSTANCE_ID"));

    publish(topic, 50, "after");
    auto all = [&] {
        auto ids = ids_in(out);
        return std::set<std::string>(ids.begin(), ids.end());
    };
    CHECK(vigil::test::wait_until([&] { return all().size() == 100; }, std::chrono::seconds(60)));
    a->signal(SIGTERM);
    CHECK(a->wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE(
    "kafka_source with a disk buffer: offsets are committed once the buffer holds the records, and the "
    "buffer hands them to the sink after a restart",
    "[integration]") {
    auto topic = kt::unique("buffered");
    auto group = kt::unique("buffered-group");
    kt::create_topic(topic, 2);
    constexpr int kRecords = 2000;
    publish(topic, kRecords, "");  // numeric ids, as flaky_sink wants
    TempDir dir;
    auto out = dir / "out.jsonl";
    auto yaml = [&](const std::string& sink) {
        return "pipeline: buffered\nbuffer: {type: disk, path: " + (dir / "buffer").string() +
               "}\nsource:\n  plugin: kafka_source\n  brokers: " + kt::plaintext_brokers() + "\n  topics: [" + topic +
               "]\n  group: " + group + "\nsinks:\n  - " + sink + "\n";
    };
    std::vector<std::string> plugins{"--plugin-dir", vigil::test::test_plugin_dir().string()};
    // The sink is down: Kafka's offsets move on all the same, since the buffer holds the records.
    auto down =
        agent(dir.write("down.yaml", yaml("{plugin: flaky_sink, fail_first: 1000000000, path: " + out.string() + "}")),
              plugins);
    bool committed =
        vigil::test::wait_until([&] { return committed_total(group, topic) == kRecords; }, std::chrono::seconds(60));
    down->signal(SIGTERM);
    CHECK(down->wait(std::chrono::seconds(30)) == 0);
    INFO(down->err());
    REQUIRE(committed);
    CHECK(ids_in(out).empty());
    // Restarted with the sink up: nothing is left to read from Kafka; the buffer replays it all.
    auto up = agent(dir.write("up.yaml", yaml("{plugin: flaky_sink, path: " + out.string() + "}")), plugins);
    bool all = vigil::test::wait_until(
        [&] {
            auto ids = ids_in(out);
            return std::set<std::string>(ids.begin(), ids.end()).size() == kRecords;
        },
        std::chrono::seconds(60));
    up->signal(SIGTERM);
    CHECK(up->wait(std::chrono::seconds(30)) == 0);
    INFO(up->err());
    CHECK(all);
    CHECK_THAT(up->err(), Catch::Contains("2000 records") && Catch::Contains("from an earlier run"));
}
