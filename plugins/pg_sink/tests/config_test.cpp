// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "pg_sink_config.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"
#include "support.hpp"

using vigil::PluginKind;
using vigil::plugins::pg_sink::kOptions;
using vigil::plugins::pg_sink::parse_config;

namespace {
std::unique_ptr<vigil::test::CheckedSection> check(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: pg_sink\n" + yaml, kOptions, PluginKind::Sink);
    if (!s->diags.has_errors()) {
        parse_config(s->node, "pg_sink.0", s->diags);
    }
    return s;
}
}  // namespace

TEST_CASE("pg_sink: sample.yaml validates", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Sink, "sinks[0]");
    auto c = parse_config(s->node, "pg_sink.0", s->diags);
    CHECK(s->errors() == "");
    REQUIRE(c);
    CHECK(c->table == "metrics");
    CHECK(c->max_rows == 5000);
    CHECK(c->connections == 2);
    CHECK(c->application_name == "vigil-pg_sink.0");
}

TEST_CASE("pg_sink: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("pg_sink: each refusal names the file, line, column and key", "[unit][config]") {
    auto s = check(
        "url: \"postgresql://u@h/db?nosuchoption=1\"\ntable: metrics\ndead_letter_table: metrics\n"
        "columns:\n  nosuch: x\n  name: url\nmax_rows: 0\nconnections: 100\n");
    CHECK(s->errors() ==
          "test.yaml:2:6: error: url: not a libpq connection string: invalid URI query parameter: \"nosuchoption\"\n"
          "test.yaml:4:20: error: dead_letter_table: must be a table name other than `table`\n"
          "test.yaml:6:3: error: columns.nosuch: the record has no field \"nosuch\"; fields: name, url, "
          "response_time, status_code, regex, regex_check, timestamp, check_id, agent, ok, error, error_detail, "
          "dns_ms, connect_ms, tls_ms, ttfb_ms, redirects, body_bytes, truncated, http_version, remote_ip, "
          "tls_not_after, lag_ms, attempts, body_excerpt, response_headers, location, group, kind, rcode, answers, "
          "packets_sent, packets_received, packet_loss, rtt_min_ms, rtt_avg_ms, "
          "rtt_max_ms, rtt_stddev_ms, tls_version, tls_cipher, tls_issuer, ocsp_status\n"
          "test.yaml:6:3: error: columns: two fields are written to column \"url\"\n"
          "test.yaml:8:11: error: max_rows: must be between 1 and 1000000, got 0\n"
          "test.yaml:9:14: error: connections: must be between 1 and 64, got 100\n");
}

TEST_CASE("pg_sink: a URL libpq refuses is reported without the password it holds", "[unit][config]") {
    // libpq's message quotes the bad token, here the password itself.
    auto s = check("url: \"postgresql://vigil:s3cr%zzet@127.0.0.1:1/db\"\n");
    CHECK(s->errors() ==
          "test.yaml:2:6: error: url: not a libpq connection string: invalid percent-encoded token: "
          "\"***\"\n");
    auto kv = check("url: \"host=h password='unterminated\"\n");
    CHECK(kv->errors().find("unterminated") == std::string::npos);
}

TEST_CASE("pg_sink: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::pg_sink;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<StateRules>(vigil::find_option(kOptions, "state")->children, kBoundStateRules).empty());
    CHECK(vigil::bound_problems<StateRules>(
              vigil::find_option(vigil::find_option(kOptions, "state")->children, "sites")->children, kBoundStateRules)
              .empty());
    CHECK(vigil::bound_problems<RollupConfig>(vigil::find_option(kOptions, "rollups")->children, kBoundRollupConfig)
              .empty());
}
