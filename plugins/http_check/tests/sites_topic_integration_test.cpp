// SPDX-License-Identifier: Apache-2.0
// sites_topic against the real broker of scripts/services: `agent sites` (import, add, remove,
// list) and a producer agent following the topic live, checking fixture sites.
#include <catch2/catch.hpp>

#include <csignal>
#include <map>

#include "kafka_support.hpp"
#include "run_check.hpp"
#include "support.hpp"

namespace kt = vigil::test::kafka;
using namespace std::chrono_literals;
using vigil::test::Child;
using vigil::test::fixture;
using vigil::test::received;

namespace {

struct Topic {
    std::string topic = kt::unique("sites");
    std::string group = kt::unique("producers");
    vigil::test::TempDir dir;
    std::filesystem::path pipeline;

    explicit Topic(const std::string& interval = "1s", const std::string& location = "test-eu") {
        pipeline =
            dir.write("producer.yaml", "pipeline: producer\nsource:\n  plugin: http_check\n  interval: " + interval +
                                           "\n  timeout: 900ms\n  location: " + location +
                                           "\n  sites_topic:\n    topic: " + topic + "\n    group: " + group +
                                           "\n    brokers: " + kt::plaintext_brokers() +
                                           "\n    session_timeout: 6s\n    partitions: 4\n"
                                           "sinks: [{plugin: stdout_sink, path: out.jsonl}]\n"
                                           "metrics: {listen: \"127.0.0.1:0\"}\n");
    }
    vigil::test::RunResult sites(std::vector<std::string> words) const {
        std::vector<std::string> argv{vigil::test::agent_binary().string(), "sites"};
        argv.insert(argv.end(), words.begin(), words.end());
        argv.insert(argv.end(), {"--pipeline", pipeline.string()});
        return vigil::test::run(argv);
    }
    // The records written so far, in order.
    std::vector<vigil::CheckRecord> records() const {
        std::vector<vigil::CheckRecord> out;
        for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
            if (auto r = vigil::decode_json(line)) {
                out.push_back(*r.record);
            }
        }
        return out;
    }
    std::size_t count(const std::string& name) const {
        std::size_t n = 0;
        for (const auto& r : records()) {
            n += r.name == name ? 1 : 0;
        }
        return n;
    }
};

vigil::Timestamp now_us() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace

TEST_CASE("agent sites: a bad list publishes nothing; import, add, list and remove; the producer follows live",
          "[integration]") {
    const auto& f = fixture();
    Topic t;
    auto bad =
        t.dir.write("bad.yaml", "- {name: a, url: \"" + f.url("/ok") + "\"}\n- {name: b, url: \"" + f.url("/ok") +
                                    "\", regex: \"((\"}\n- {name: a, url: \"" + f.url("/ok") + "\"}\n");
    auto refused = t.sites({"import", bad.string()});
    CHECK(refused.code == 78);
    CHECK(refused.err.find(bad.string() + ":2:") != std::string::npos);
    CHECK(refused.err.find("error: [1].regex: invalid regular expression \"((\"") != std::string::npos);
    CHECK(refused.err.find("error: [2].name: duplicate site name \"a\" (first at 1:10)") != std::string::npos);
    CHECK(refused.err.find("nothing published") != std::string::npos);
    auto empty = t.sites({"list"});
    CHECK(empty.code == 1);  // not even the topic was made
    CHECK(empty.err.find("topic " + t.topic + " does not exist yet") != std::string::npos);

    auto good = t.dir.write("good.yaml", "- {name: alpha, url: \"" + f.url("/ok") +
                                             "\", regex: Vigil}\n"
                                             "- {name: beta, url: \"" +
                                             f.url("/health/UP") + "\", json: [{pointer: /status, equals: UP}]}\n");
    auto imported = t.sites({"import", good.string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);
    CHECK(imported.err.find("created topic " + t.topic + " (4 partitions, cleanup.policy=compact)") !=
          std::string::npos);
    CHECK(imported.err.find("published 2 http site(s) to topic " + t.topic) != std::string::npos);
    auto listed = t.sites({"list"});
    CHECK(listed.code == 0);
    CHECK(listed.out == "{\"name\":\"alpha\",\"url\":\"" + f.url("/ok") + "\",\"regex\":\"Vigil\"}\n" +
                            "{\"name\":\"beta\",\"url\":\"" + f.url("/health/UP") +
                            "\",\"json\":[{\"pointer\":\"/status\",\"equals\":\"UP\"}]}\n");

    Child producer({vigil::test::agent_binary().string(), "--pipeline", t.pipeline.string()});
    REQUIRE(vigil::test::wait_until([&] { return t.count("alpha") >= 2 && t.count("beta") >= 2; }, 30s));
    for (const auto& r : t.records()) {
        INFO(r.name << ": " << r.error.value_or("ok") << " " << r.error_detail.value_or(""));
        CHECK(r.ok == true);
        CHECK(r.location == "test-eu");
    }

    // Added: checked within two intervals of the command's return, nothing restarted.
    auto added = t.sites({"add", "gamma", f.url("/ok?site=gamma"), "regex=fixture", "expect_status=[200]"});
    INFO(added.err);
    REQUIRE(added.code == 0);
    auto added_at = now_us();
    REQUIRE(vigil::test::wait_until([&] { return t.count("gamma") >= 1; }, 20s));
    vigil::Timestamp first_gamma{};
    for (const auto& r : t.records()) {
        if (r.name == "gamma") {
            first_gamma = r.timestamp;
            break;
        }
    }
    CHECK(first_gamma - added_at <= 2s);

    // Removed: no check of it starts later than two intervals after the command's return.
    REQUIRE(t.sites({"remove", "gamma"}).code == 0);
    auto removed_at = now_us();
    auto alpha_then = t.count("alpha");
    REQUIRE(vigil::test::wait_until([&] { return t.count("alpha") >= alpha_then + 4; }, 20s));  // 4 intervals on
    for (const auto& r : t.records()) {
        if (r.name == "gamma") {
            CHECK(r.timestamp - removed_at <= 2s);
        }
    }
    CHECK(producer.err().find("sites topic " + t.topic + ": assigned 4 partition(s)") != std::string::npos);

    // Messages that are no site: skipped, logged and counted; the producer goes on.
    kt::produce(t.topic, {{"delta", "{not json"},
                          {"epsilon", R"({"name": "epsilon", "url": "ftp://nowhere/"})"},
                          {"zeta", R"({"name": "other", "url": "http://127.0.0.1:1/"})"},
                          {"eta", "[1, 2]"}});
    REQUIRE(vigil::test::wait_until(
        [&] {
            return vigil::test::metric_value(
                       vigil::test::metrics_of(producer),
                       "vigil_http_check_sites_topic_rejected_total{instance=\"http_check.0\"}") == 4;
        },
        20s));
    CHECK(producer.err().find("sites topic: skipped the message at " + t.topic + "/") != std::string::npos);
    CHECK(vigil::test::metric_value(vigil::test::metrics_of(producer),
                                    "vigil_http_check_sites{instance=\"http_check.0\"}") == 2);
    alpha_then = t.count("alpha");
    REQUIRE(vigil::test::wait_until([&] { return t.count("alpha") >= alpha_then + 2; }, 20s));

    producer.signal(SIGTERM);
    REQUIRE(producer.wait(20s) == 0);
    CHECK(producer.err().find("revoked 4 partition(s)") != std::string::npos);
}

TEST_CASE("http_check: sites_topic is refused beside another site list, and its owned properties", "[integration]") {
    vigil::test::TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"http://a/\"}]\n"
                       "  shard: 1/2\n  sites_topic:\n    topic: s\n    group: g\n    brokers: 127.0.0.1:1\n"
                       "    librdkafka: {group.id: other, session.timeout.ms: \"5000\"}\n"
                       "sinks: [{plugin: stdout_sink}]\n");
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "--check-config", "--pipeline", p.string()});
    CHECK(r.code == 78);
    CHECK(r.err.find(p.string() + ":4:10: error: source.sites: sites come from sites_topic here") != std::string::npos);
    CHECK(r.err.find(p.string() + ":5:10: error: source.shard: sites come from sites_topic here") != std::string::npos);
    CHECK(r.err.find("source.sites_topic.librdkafka.group.id: Vigil sets this property itself: set `group` instead") !=
          std::string::npos);
    CHECK(r.err.find("set `session_timeout` instead") != std::string::npos);
    // --once has no fixed list to go through.
    auto once = dir.write("once.yaml",
                          "pipeline: p\nsource:\n  plugin: http_check\n  sites_topic:\n    topic: s\n"
                          "    group: g\n    brokers: 127.0.0.1:1\nsinks: [{plugin: stdout_sink}]\n");
    auto o = vigil::test::run({vigil::test::agent_binary().string(), "--once", "--pipeline", once.string()});
    CHECK(o.code == 1);
    CHECK(o.err.find("--once: with sites_topic the sites arrive as the group assigns them") != std::string::npos);
    // agent sites on a pipeline without a topic.
    auto plain = dir.write("plain.yaml",
                           "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: "
                           "\"http://a/\"}]\nsinks: [{plugin: stdout_sink}]\n");
    auto s = vigil::test::run({vigil::test::agent_binary().string(), "sites", "list", "--pipeline", plain.string()});
    CHECK(s.code == 78);
    CHECK(s.err.find("agent sites edits the sites topic, and this http_check has no sites_topic") != std::string::npos);
    auto usage =
        vigil::test::run({vigil::test::agent_binary().string(), "sites", "frobnicate", "--pipeline", plain.string()});
    CHECK(usage.code == 64);
    CHECK(usage.err.rfind("usage: agent sites import FILE", 0) == 0);
}

TEST_CASE("sites topic: a message is data: the producer's environment, files and credentials never reach its URL",
          "[hostile]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto token = dir.write("token", "file-secret\n");
    std::string topic = kt::unique("sites"), group = kt::unique("producers");
    auto pipeline =
        dir.write("producer.yaml",
                  "pipeline: producer\nsource:\n  plugin: http_check\n  interval: 1s\n  timeout: 900ms\n"
                  "  bearer_token: plugin-secret\n  headers: {X-Api-Key: plugin-key}\n"
                  "  sites_topic:\n    topic: " +
                      topic + "\n    group: " + group + "\n    brokers: " + kt::plaintext_brokers() +
                      "\n    session_timeout: 6s\n    partitions: 1\n"
                      "sinks: [{plugin: stdout_sink, path: out.jsonl}]\nmetrics: {listen: \"127.0.0.1:0\"}\n");
    auto sites = [&](std::vector<std::string> words) {
        std::vector<std::string> argv{vigil::test::agent_binary().string(), "sites"};
        argv.insert(argv.end(), words.begin(), words.end());
        argv.insert(argv.end(), {"--pipeline", pipeline.string()});
        return vigil::test::run(argv, {{"VIGIL_TEST_SECRET", "env-secret"}});
    };
    // agent sites: a ${VAR} is published as that text, a written-out secret only when asked.
    auto file = dir.write("sites.yaml", "- {name: probe, url: \"" + f.url("/record/hostile-probe") +
                                            "?p=${VIGIL_TEST_SECRET}\", bearer_token: \"${VIGIL_TEST_SECRET}\"}\n");
    auto imported = sites({"import", file.string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);
    auto literal = sites({"add", "literal", f.url("/ok"), "bearer_token=hunter2"});
    CHECK(literal.code == 78);
    CHECK(literal.err.find("agent sites add:3:17:") != std::string::npos);
    CHECK(literal.err.find("error: [0].bearer_token: a secret in a site definition is readable by everyone who can "
                           "read the topic: pass --allow-secrets") != std::string::npos);
    CHECK(sites({"add", "literal", f.url("/ok"), "bearer_token=hunter2", "--allow-secrets"}).code == 0);
    auto listed = sites({"list"});
    CHECK(listed.out.find("${VIGIL_TEST_SECRET}") != std::string::npos);
    CHECK(listed.out.find("env-secret") == std::string::npos);

    // What someone with write access to the topic would try, written straight to Kafka.
    kt::produce(
        topic, {{"files", R"({"name":"files","url":")" + f.url("/record/hostile-files") + R"(","bearer_token_file":")" +
                              token.string() + "\"}"},
                {"ca", R"({"name":"ca","url":")" + f.url("/ok") + R"(","ca_file":"/etc/passwd"})"},
                {"proxied", R"({"name":"proxied","url":")" + f.url("/ok") + R"(","proxy":"http://127.0.0.1:1"})"},
                {"bound", R"({"name":"bound","url":")" + f.url("/ok") + R"(","interface":"lo"})"}});
    Child producer({vigil::test::agent_binary().string(), "--pipeline", pipeline.string()},
                   {{"VIGIL_TEST_SECRET", "env-secret"}});
    auto rejected = [&] {
        return vigil::test::metric_value(vigil::test::metrics_of(producer),
                                         "vigil_http_check_sites_topic_rejected_total{instance=\"http_check.0\"}");
    };
    REQUIRE(vigil::test::wait_until([&] { return rejected() == 4 && received("hostile-probe").size() >= 2; }, 30s));
    for (const auto& r : received("hostile-probe")) {
        INFO(r.path);
        CHECK(r.path.find("env-secret") == std::string::npos);
        CHECK(r.path.find("VIGIL_TEST_SECRET") != std::string::npos);
        CHECK(r.headers.count("x-api-key") == 0);  // plugin-level headers are not inherited
        CHECK(r.headers.at("authorization") == "Bearer ${VIGIL_TEST_SECRET}");
    }
    CHECK(received("hostile-files").empty());
    auto err = producer.err();
    CHECK(err.find("bearer_token_file: names a file, which a message may not") != std::string::npos);
    CHECK(err.find("plugin-secret") == std::string::npos);
    producer.signal(SIGTERM);
    REQUIRE(producer.wait(20s) == 0);
}
