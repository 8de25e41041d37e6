// SPDX-License-Identifier: Apache-2.0
// The options both Kafka plugins share, validated as the agent validates a plugin's section.
#include <catch2/catch.hpp>

#include "kafka_options.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

using namespace vigil::plugins::kafka;
using vigil::OptionType;
using vigil::PluginKind;

namespace {
const vigil::OptionSpec kOptions[] = {
    VIGIL_KAFKA_CONNECTION_OPTIONS{},
};
const OwnedProperty kOwned[] = {{"group.id", "set `group` instead"}, {nullptr, nullptr}};

struct Read {
    std::unique_ptr<vigil::test::CheckedSection> section;
    Properties props;
    std::string errors() const { return section->errors(); }
};

// Validates `yaml` as the root of a pipeline section, then reads it as both plugins do.
Read read(const std::string& yaml) {
    Read r{vigil::test::check_section("plugin: kafka_test\n" + yaml, kOptions, PluginKind::Sink), {}};
    if (!r.section->diags.has_errors()) {
        read_connection(r.section->node, r.props, r.section->diags);
        read_passthrough(r.section->node, kOwned, r.props, r.section->diags);
        validate_client(RD_KAFKA_PRODUCER, r.props, r.section->node, r.section->diags);
    }
    return r;
}
}  // namespace

TEST_CASE("kafka options: brokers and security become librdkafka properties", "[unit]") {
    auto plain = read("brokers: a:9092,b:9092\n");
    REQUIRE(plain.errors() == "");
    CHECK(property(plain.props, "bootstrap.servers") == "a:9092,b:9092");
    CHECK(property(plain.props, "security.protocol") == "PLAINTEXT");
    CHECK(property(plain.props, "reconnect.backoff.max.ms") == "2000");
    CHECK(property(plain.props, "sasl.username") == "");

    auto sasl = read(
        "brokers: a:1\nsecurity:\n  protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n  username: u\n"
        "  password: p\n");
    REQUIRE_FALSE(sasl.section->diags.has_errors());
    CHECK(property(sasl.props, "sasl.mechanism") == "PLAIN");
    CHECK(property(sasl.props, "sasl.username") == "u");
    CHECK(property(sasl.props, "sasl.password") == "p");
    // Verification said explicitly, whatever librdkafka's default of the day.
    CHECK(property(sasl.props, "enable.ssl.certificate.verification") == "true");
    CHECK(property(sasl.props, "ssl.endpoint.identification.algorithm") == "https");
}

TEST_CASE("kafka options: each refusal names the line, column and key", "[unit]") {
    CHECK_THAT(read("brokers: ' , '\n").errors(),
               Catch::Contains("test.yaml:2:10: error: brokers: no broker given; expected host:port[,host:port...]"));
    CHECK_THAT(read("brokers: a:1\nsecurity:\n  protocol: SASL_SSL\n").errors(),
               Catch::Contains("error: security.username: protocol SASL_SSL needs a username"));
    CHECK_THAT(read("brokers: a:1\nsecurity:\n  protocol: SSL\n  cert_file: /etc/hostname\n").errors(),
               Catch::Contains("cert_file and key_file go together; key_file is missing"));
    CHECK_THAT(read("brokers: a:1\nsecurity:\n  protocol: SSL\n  ca_file: /nonexistent/ca.pem\n").errors(),
               Catch::Contains("error: security.ca_file: cannot read \"/nonexistent/ca.pem\""));
    // Properties Vigil owns are refused with what to set instead, the plugin's own and the shared.
    CHECK_THAT(read("brokers: a:1\nlibrdkafka:\n  sasl.password: x\n").errors(),
               Catch::Contains("test.yaml:4:3: error: librdkafka.sasl.password: Vigil sets this property itself"));
    CHECK_THAT(read("brokers: a:1\nlibrdkafka:\n  group.id: g\n").errors(),
               Catch::Contains("librdkafka.group.id: Vigil sets this property itself: set `group` instead"));
    // librdkafka's own verdict, located at the entry.
    CHECK_THAT(read("brokers: a:1\nlibrdkafka:\n  no.such.property: 1\n").errors(),
               Catch::Contains("test.yaml:4:3: error: librdkafka.no.such.property: librdkafka: "));
    CHECK_THAT(read("brokers: a:1\nlibrdkafka:\n  linger.ms: forever\n").errors(),
               Catch::Contains("error: librdkafka.linger.ms: librdkafka: "));
}

TEST_CASE("kafka options: weakening TLS or sending credentials in clear warns", "[unit]") {
    auto clear = read("brokers: a:1\nsecurity:\n  protocol: SASL_PLAINTEXT\n  username: u\n  password: p\n");
    CHECK_FALSE(clear.section->diags.has_errors());
    CHECK_THAT(clear.errors(), Catch::Contains("warning: security.protocol: SASL_PLAINTEXT: the password"));
    auto unverified = read(
        "brokers: a:1\nsecurity:\n  protocol: SSL\nlibrdkafka:\n"
        "  enable.ssl.certificate.verification: 'false'\n");
    CHECK_THAT(unverified.errors(), Catch::Contains("the brokers' certificates are not verified"));
    auto unused = read("brokers: a:1\nsecurity:\n  username: u\n");
    CHECK_FALSE(unused.section->diags.has_errors());
    CHECK_THAT(unused.errors(), Catch::Contains("username and password are ignored with protocol PLAINTEXT"));
    // Later entries win: the pass-through may still override what Vigil set first.
    auto later = read("brokers: a:1\nlibrdkafka:\n  reconnect.backoff.max.ms: '5000'\n");
    CHECK(property(later.props, "reconnect.backoff.max.ms") == "5000");
}
