// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kafka_sink.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"
#include "support.hpp"

using vigil::PluginKind;
using vigil::plugins::kafka_sink::KafkaSink;
using vigil::plugins::kafka_sink::KeyField;
using vigil::plugins::kafka_sink::kOptions;
using vigil::plugins::kafka_sink::parse_config;

namespace {
std::unique_ptr<vigil::test::CheckedSection> check(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: kafka_sink\n" + yaml, kOptions, PluginKind::Sink);
    if (!s->diags.has_errors()) {
        parse_config(s->node, "vigil-test", s->diags);
    }
    return s;
}
}  // namespace

TEST_CASE("kafka_sink: sample.yaml validates", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Sink, "sinks[0]");
    auto c = parse_config(s->node, "vigil-test", s->diags);
    CHECK(s->errors() == "");
    REQUIRE(c);
    CHECK(c->topic == "website-metrics");
    CHECK(c->key_field == KeyField::Name);
    CHECK(vigil::plugins::kafka::property(c->props, "enable.idempotence") == "true");
    CHECK(vigil::plugins::kafka::property(c->props, "acks") == "all");
    CHECK(vigil::plugins::kafka::property(c->props, "compression.codec") == "zstd");
}

TEST_CASE("kafka_sink: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);  // `security` included
}

TEST_CASE("kafka_sink: options become librdkafka properties", "[unit][config]") {
    vigil::test::TempDir dir;
    std::string ca = "/etc/ssl/certs/ca-certificates.crt";
    auto pw = dir.write("pw", "s3cret\n");
    auto s = check(
        "brokers: a:1,b:2\ntopic: t\nkey_field: none\ncompression: lz4\nlinger: 20ms\n"
        "delivery_timeout: 30s\nsecurity:\n  protocol: SASL_SSL\n  username: u\n"
        "  password_file: " +
        pw.string() + "\n  ca_file: " + ca +
        "\n"
        "librdkafka:\n  batch.num.messages: \"1000\"\n");
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, "vigil-x", s->diags);
    REQUIRE(c);
    using vigil::plugins::kafka::property;
    CHECK(property(c->props, "bootstrap.servers") == "a:1,b:2");
    CHECK(property(c->props, "security.protocol") == "SASL_SSL");
    CHECK(property(c->props, "sasl.mechanism") == "PLAIN");
    CHECK(property(c->props, "sasl.password") == "s3cret");
    CHECK(property(c->props, "ssl.ca.location") == ca);
    // Verification said explicitly, not left to librdkafka's defaults.
    CHECK(property(c->props, "enable.ssl.certificate.verification") == "true");
    CHECK(property(c->props, "ssl.endpoint.identification.algorithm") == "https");
    CHECK(property(c->props, "linger.ms") == "20");
    CHECK(property(c->props, "message.timeout.ms") == "30000");
    CHECK(property(c->props, "batch.num.messages") == "1000");
    CHECK(property(c->props, "client.id") == "vigil-x");
    CHECK(c->key_field == KeyField::None);
}

TEST_CASE("kafka_sink: each refusal names the file, line, column and key", "[unit][config]") {
    SECTION("a property Vigil owns, with the reason") {
        auto s = check("brokers: a:1\ntopic: t\nlibrdkafka:\n  enable.idempotence: \"false\"\n  acks: \"1\"\n");
        CHECK(s->errors() ==
              "test.yaml:5:3: error: librdkafka.enable.idempotence: Vigil sets this property itself: the producer "
              "is always idempotent, so a retried send never duplicates\n"
              "test.yaml:6:3: error: librdkafka.acks: Vigil sets this property itself: every record waits for all "
              "in-sync replicas (acks=all) before its batch is acknowledged\n");
    }
    SECTION("librdkafka's own error for an unknown property or a bad value") {
        auto s = check("brokers: a:1\ntopic: t\nlibrdkafka:\n  no.such.property: \"1\"\n  batch.num.messages: lots\n");
        CHECK(s->errors() ==
              "test.yaml:5:3: error: librdkafka.no.such.property: librdkafka: No such configuration property: "
              "\"no.such.property\"\n"
              "test.yaml:6:3: error: librdkafka.batch.num.messages: librdkafka: Invalid value for configuration "
              "property \"batch.num.messages\"\n");
    }
    SECTION("a combination librdkafka refuses only when a client is made") {
        auto s = check("brokers: a:1\ntopic: t\nlibrdkafka:\n  max.in.flight: \"10\"\n");
        CHECK_THAT(s->errors(),
                   Catch::StartsWith("test.yaml:5:3: error: librdkafka: librdkafka refused the configuration: "));
        CHECK_THAT(s->errors(), Catch::Contains("max.in.flight"));
    }
    SECTION("SASL without credentials, TLS files without TLS, a missing CA file") {
        auto s = check("brokers: a:1\ntopic: t\nsecurity:\n  protocol: SASL_SSL\n  ca_file: /no/such/ca.pem\n");
        CHECK(s->errors() ==
              "test.yaml:5:3: error: security.username: protocol SASL_SSL needs a username\n"
              "test.yaml:5:3: error: security.password: protocol SASL_SSL needs a password (or password_file)\n"
              "test.yaml:6:12: error: security.ca_file: cannot read \"/no/such/ca.pem\": No such file or directory\n");
        auto p = check("brokers: a:1\ntopic: t\nsecurity:\n  username: u\n  ca_file: x.pem\n");
        CHECK_FALSE(p->diags.has_errors());  // one file serves PLAINTEXT and SASL_SSL through ${VAR}s
        CHECK(p->diags.render() ==
              "test.yaml:5:13: warning: security: username and password are ignored with protocol PLAINTEXT (no SASL)\n"
              "test.yaml:6:12: warning: security.ca_file: ignored with protocol PLAINTEXT (no TLS)\n");
    }
    SECTION("a bad topic name, no brokers, a zero delivery timeout") {
        auto s = check("brokers: \" , \"\ntopic: \"has space\"\ndelivery_timeout: 0s\n");
        CHECK(s->errors() ==
              "test.yaml:2:10: error: brokers: no broker given; expected host:port[,host:port...]\n"
              "test.yaml:3:8: error: topic: \"has space\" is not a valid Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ "
              "-)\n"
              "test.yaml:4:19: error: delivery_timeout: must be at least 1s: shorter gives the brokers no time to "
              "answer\n");
    }
    SECTION("a CA file that holds no certificate, found by librdkafka at load") {
        vigil::test::TempDir dir;
        auto ca = dir.write("ca.pem", "not a certificate\n");
        auto s = check("brokers: a:1\ntopic: t\nsecurity:\n  protocol: SSL\n  ca_file: " + ca.string() + "\n");
        CHECK_THAT(s->errors(), Catch::StartsWith("test.yaml:6:12: error: security.ca_file: librdkafka refused the "
                                                  "configuration: ssl.ca.location failed"));
    }
    SECTION("SCRAM with a librdkafka that cannot do it against Kafka 4 is a warning, not an error") {
        auto s = check(
            "brokers: a:1\ntopic: t\nsecurity:\n  protocol: SASL_SSL\n  sasl_mechanism: SCRAM-SHA-512\n"
            "  username: u\n  password: p\n");
        CHECK_FALSE(s->diags.has_errors());
        if (rd_kafka_version() < 0x020601ff) {
            CHECK_THAT(s->diags.render(), Catch::Contains("warning: security.sasl_mechanism: librdkafka"));
            CHECK_THAT(s->diags.render(), Catch::Contains("#4895"));
        }
    }
}

TEST_CASE("kafka_sink: the key is the chosen field", "[unit]") {
    vigil::CheckRecord r;
    r.name = "site";
    r.url = "https://x/";
    r.check_id = "id";
    r.agent = "host";
    CHECK(KafkaSink::key_of(r, KeyField::Name) == "site");
    CHECK(KafkaSink::key_of(r, KeyField::Url) == "https://x/");
    CHECK(KafkaSink::key_of(r, KeyField::CheckId) == "id");
    CHECK(KafkaSink::key_of(r, KeyField::Agent) == "host");
    CHECK(KafkaSink::key_of(r, KeyField::None).empty());
}

TEST_CASE("kafka_sink: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::kafka_sink;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}
