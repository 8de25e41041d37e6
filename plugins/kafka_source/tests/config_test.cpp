// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kafka_source_config.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"
#include "support.hpp"

using vigil::PluginKind;
using vigil::plugins::kafka::property;
using vigil::plugins::kafka_source::kOptions;
using vigil::plugins::kafka_source::parse_config;

namespace {
std::unique_ptr<vigil::test::CheckedSection> check(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: kafka_source\n" + yaml, kOptions, PluginKind::Source);
    if (!s->diags.has_errors()) {
        parse_config(s->node, "vigil-test", s->diags);
    }
    return s;
}
}  // namespace

TEST_CASE("kafka_source: sample.yaml validates", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, "vigil-test", s->diags);
    CHECK(s->errors() == "");
    REQUIRE(c);
    CHECK(c->topics == std::vector<std::string>{"website-metrics"});
    CHECK(c->dead_letter_topic_for("website-metrics") == "website-metrics.dlq");
    CHECK(property(c->consumer, "enable.auto.commit") == "false");
    CHECK(property(c->consumer, "enable.auto.offset.store") == "false");
    CHECK(property(c->consumer, "auto.offset.reset") == "earliest");
    CHECK(property(c->producer, "enable.idempotence") == "true");
    CHECK(property(c->producer, "acks") == "all");
}

TEST_CASE("kafka_source: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);  // `security` included
}

TEST_CASE("kafka_source: each refusal names the file, line, column and key", "[unit][config]") {
    SECTION("commit settings are the source's own") {
        auto s = check("brokers: a:1\ntopics: [t]\ngroup: g\nlibrdkafka:\n  enable.auto.commit: \"true\"\n");
        CHECK(s->errors() ==
              "test.yaml:6:3: error: librdkafka.enable.auto.commit: Vigil sets this property itself: "
              "offsets are committed only after the sinks acknowledge, never automatically\n");
    }
    SECTION("a dead-letter topic the source reads itself") {
        auto s = check("brokers: a:1\ntopics: [t, t.dlq]\ngroup: g\n");
        CHECK(s->errors() ==
              "test.yaml:1:1: error: dead_letter_topic: \"t.dlq\" is also read by this source: a bad "
              "message would come back forever\n");
    }
    SECTION("bad values") {
        auto s = check(
            "brokers: a:1\ntopics: [\"bad topic\"]\ngroup: \"\"\nmax_batch: 0\nmax_message_bytes: 10\n"
            "start: middle\n");
        CHECK_THAT(s->errors(), Catch::Contains("start: "));
        auto t = check("brokers: a:1\ntopics: [\"bad topic\"]\ngroup: \"\"\nmax_batch: 0\nmax_message_bytes: 10\n");
        CHECK(t->errors() ==
              "test.yaml:3:9: error: topics: \"bad topic\" is not a valid Kafka topic name (1 to 249 of a-z A-Z 0-9 . "
              "_ -)\n"
              "test.yaml:4:8: error: group: must not be empty\n"
              "test.yaml:5:12: error: max_batch: must be between 1 and 100000, got 0\n"
              "test.yaml:6:20: error: max_message_bytes: must be at least 64B, got 10B: no check result is smaller\n");
    }
    SECTION("a client option librdkafka does not know") {
        auto s = check("brokers: a:1\ntopics: [t]\ngroup: g\nlibrdkafka:\n  session.timeout: \"6000\"\n");
        CHECK_THAT(s->errors(), Catch::Contains("test.yaml:6:3: error: librdkafka.session.timeout: librdkafka: No such "
                                                "configuration property"));
    }
}

TEST_CASE("kafka_source: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::kafka_source;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}
