// SPDX-License-Identifier: Apache-2.0
// Broken pipeline files: each gives its own one-line error naming file:line:col, and exit 78
// (EX_CONFIG), never a crash. Run through the agent binary, as a user meets them.
#include <set>

#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

struct Broken {
    const char* what;
    std::string yaml;
    std::string where;  // "line:col" of the first error
    std::string says;   // a fragment of its message
};

const std::string kSource = "source:\n  plugin: http_check\n  sites: [{name: a, url: \"http://127.0.0.1:1/\"}]\n";
const std::string kSink = "sinks:\n  - plugin: stdout_sink\n";

std::vector<Broken> corpus() {
    return {
        {"YAML syntax: unclosed flow list", "pipeline: p\nsinks: [\n", "3:1", "YAML"},
        {"YAML syntax: a tab for indentation", "pipeline: p\nsource:\n\tplugin: http_check\n", "3:8", "invalid YAML"},
        {"duplicate key", "pipeline: p\npipeline: q\n" + kSource + kSink, "2:1", "duplicate key"},
        {"unknown core key", "pipline: p\n" + kSource + kSink, "1:1", "unknown option; did you mean \"pipeline\""},
        {"unknown plugin key", "pipeline: p\n" + kSource + "  intervall: 5s\n" + kSink, "5:3", "intervall"},
        {"wrong type: int", "pipeline: p\nmax_in_flight: lots\n" + kSource + kSink, "2:16", "integer"},
        {"bad duration", "pipeline: p\n" + kSource + "  interval: 5 minutes\n" + kSink, "5:13", "duration"},
        {"negative duration", "pipeline: p\n" + kSource + "  timeout: -1s\n" + kSink, "5:12", "duration"},
        {"bad size", "pipeline: p\n" + kSource + "  max_body: 1XB\n" + kSink, "5:13", "size"},
        {"bool as yes", "pipeline: p\n" + kSource + "  verify_tls: yes\n" + kSink, "5:15", "true or false"},
        {"bad regex",
         "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"http://x/\", regex: \"((\"}]\n" +
             kSink,
         "4:46", "invalid regular expression"},
        {"bad regex_absent", "pipeline: p\n" + kSource + "  regex_absent: \"[z-a]\"\n" + kSink, "5:17",
         "invalid regular expression"},
        {"max_response_time not below timeout", "pipeline: p\n" + kSource + "  max_response_time: 30s\n" + kSink,
         "5:22", "is not below timeout 10s"},
        {"min_cert_validity as a bare number", "pipeline: p\n" + kSource + "  min_cert_validity: 14\n" + kSink, "5:22",
         "duration"},
        {"json pointer without its slash",
         "pipeline: p\n" + kSource + "  json: [{pointer: status, equals: UP}]\n" + kSink, "5:20",
         "is not a JSON pointer"},
        {"json assertion with no operator", "pipeline: p\n" + kSource + "  json: [{pointer: /status}]\n" + kSink,
         "5:10", "says nothing about the value"},
        {"json below as text", "pipeline: p\n" + kSource + "  json: [{pointer: /a, below: ten}]\n" + kSink, "5:31",
         "number"},
        {"json on a HEAD request",
         "pipeline: p\n" + kSource + "  method: HEAD\n  json: [{pointer: /a, exists: true}]\n" + kSink, "6:9",
         "a HEAD request gets no body"},
        {"header assertion without a name", "pipeline: p\n" + kSource + "  expect_headers: [{absent: true}]\n" + kSink,
         "5:20", "missing required option \"name\""},
        {"header assertion with a bad pattern",
         "pipeline: p\n" + kSource + "  expect_headers: [{name: server, matches: \"[\"}]\n" + kSink, "5:44",
         "invalid regular expression"},
        {"basic_auth without a username", "pipeline: p\n" + kSource + "  basic_auth: {password: x}\n" + kSink, "5:15",
         "missing required option \"username\""},
        {"basic_auth and bearer_token",
         "pipeline: p\n" + kSource + "  basic_auth: {username: a}\n  bearer_token: t\n" + kSink, "6:17", "not both"},
        {"bearer_token_file missing", "pipeline: p\n" + kSource + "  bearer_token_file: /nonexistent/token\n" + kSink,
         "5:22", "/nonexistent/token"},
        {"client certificate without its key",
         "pipeline: p\n" + kSource + "  client_cert_file: /etc/hostname\n" + kSink, "5:21", "go together"},
        {"proxy with an unknown scheme", "pipeline: p\n" + kSource + "  proxy: \"ftp://p:21\"\n" + kSink, "5:10",
         "is not a proxy URL"},
        {"http_version 3 without HTTP/3 in libcurl", "pipeline: p\n" + kSource + "  http_version: \"3\"\n" + kSink,
         "5:17", "built without HTTP/3"},
        {"source_address not an address", "pipeline: p\n" + kSource + "  source_address: eth0\n" + kSink, "5:19",
         "is not an IPv4 or IPv6 address"},
        {"interface that does not exist", "pipeline: p\n" + kSource + "  interface: vigil-none0\n" + kSink, "5:14",
         "no network interface"},
        {"ip_mode misspelt", "pipeline: p\n" + kSource + "  ip_mode: every\n" + kSink, "5:12", "is not one of"},
        {"retries out of range", "pipeline: p\n" + kSource + "  retries: -1\n" + kSink, "5:12",
         "must be between 0 and 10"},
        {"body_excerpt as yes", "pipeline: p\n" + kSource + "  body_excerpt: yes\n" + kSink, "5:17", "true or false"},
        {"group of 201 characters", "pipeline: p\n" + kSource + "  group: " + std::string(201, 'g') + "\n" + kSink,
         "5:10", "the group's name is over 200 bytes"},
        {"bad URL scheme",
         "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"ftp://x/\"}]\n" + kSink, "4:26",
         "is not http:// or https://"},
        {"duplicate site names",
         "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"http://x/\"}, {name: a, url: "
         "\"http://y/\"}]\n" +
             kSink,
         "4:", "duplicate"},
        {"bad status", "pipeline: p\n" + kSource + "  expect_status: [700]\n" + kSink, "5:", "status"},
        {"bad method", "pipeline: p\n" + kSource + "  method: FETCH\n" + kSink, "5:11", "one of"},
        {"bad shard", "pipeline: p\n" + kSource + "  shard: 4/3\n" + kSink, "5:10", "shard"},
        {"missing variable", "pipeline: p\n" + kSource + "  interval: ${VIGIL_SURELY_UNSET_VARIABLE}\n" + kSink,
         "5:", "VIGIL_SURELY_UNSET_VARIABLE"},
        {"unreadable secret file",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: kafka_sink\n    brokers: a:1\n    topic: t\n    security:\n"
             "      protocol: SASL_SSL\n      username: u\n      password_file: /nonexistent/secret\n",
         "12:", "/nonexistent/secret"},
        {"plugin missing", "pipeline: p\n" + kSource + "sinks:\n  - plugin: no_such_plugin\n", "6:", "no_such_plugin"},
        {"a sink in the source slot", "pipeline: p\nsource:\n  plugin: stdout_sink\n" + kSink, "3:", "sink"},
        {"a source in a sink slot", "pipeline: p\n" + kSource + "sinks:\n  - plugin: http_check\n", "6:", "source"},
        {"no source", "pipeline: p\n" + kSink, "1:1", "source"},
        {"no sinks", "pipeline: p\n" + kSource + "sinks: []\n", "5:", "sink"},
        {"source not a map", "pipeline: p\nsource: http_check\n" + kSink, "2:9", "map"},
        {"kafka_sink: bad compression",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: kafka_sink\n    brokers: a:1\n    topic: t\n    compression: brotli\n",
         "9:18", "brotli"},
        {"kafka_sink: a property Vigil owns",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: kafka_sink\n    brokers: a:1\n    topic: t\n    librdkafka: {acks: \"1\"}\n",
         "9:", "acks"},
        {"kafka_source: bad start",
         "pipeline: p\nsource:\n  plugin: kafka_source\n  brokers: a:1\n  topics: [t]\n  group: g\n  start: middle\n" +
             kSink,
         "7:10", "middle"},
        {"pg_sink: a column for no field",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://u@h/db?sslmode=verify-full\"\n    columns: {nosuch: "
             "x}\n",
         "8:", "nosuch"},
        {"pg_sink: a URL libpq cannot parse",
         "pipeline: p\n" + kSource + "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://u@h/db?bogus=1\"\n", "7:10",
         "bogus"},
        {"pg_sink: a retention shorter than the day partitions it drops",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://u@h/db?sslmode=verify-full\"\n    retention: 2h\n",
         "8:16", "at least 1d"},
        {"pg_sink: a rollup retention without a unit",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://u@h/db?sslmode=verify-full\"\n    rollups: "
             "{daily_retention: 90}\n",
         "8:32", "expected a duration"},
        {"bad log level", "pipeline: p\nlog: {level: loud}\n" + kSource + kSink, "2:14", "loud"},
        {"bad metrics address", "pipeline: p\nmetrics: {listen: nowhere}\n" + kSource + kSink, "2:19", "nowhere"},
        {"empty file", "", "1:1", "missing required option \"pipeline\""},
        {"a list at the top", "- pipeline: p\n", "1:1", "map"},
        {"buffer: unknown type", "pipeline: p\nbuffer: {type: tape}\n" + kSource + kSink, "2:16", "tape"},
        {"buffer: too small", "pipeline: p\nbuffer: {type: disk, path: /tmp, max_size: 64KiB}\n" + kSource + kSink,
         "2:44", "at least 4MiB"},
        {"buffer: path under a file",
         "pipeline: p\nbuffer: {type: disk, path: /etc/hostname/buffer}\n" + kSource + kSink, "2:28",
         "not a directory"},
        {"buffer: bad when_full", "pipeline: p\nbuffer: {type: disk, path: /tmp, when_full: wait}\n" + kSource + kSink,
         "2:45", "one of"},
        {"kafka_source: session_timeout below what brokers accept",
         "pipeline: p\nsource:\n  plugin: kafka_source\n  brokers: a:1\n  topics: [t]\n  group: g\n  session_timeout: "
         "1s\n" +
             kSink,
         "7:20", "between 6s and 30m"},
        {"pg_sink: a password libpq cannot decode (reported without it)",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://vigil:s3cr%zzet@127.0.0.1:1/db\"\n",
         "7:10", "invalid percent-encoded token: \"***\""},
        {"a value with a stray ${ (never echoed)",
         "pipeline: p\n" + kSource +
             "sinks:\n  - plugin: kafka_sink\n    brokers: a:1\n    topic: t\n    security:\n"
             "      protocol: SASL_SSL\n      username: u\n      password: \"hunter2${oops\"\n",
         "12:", "at character 8"},
        {"sites_file missing",
         "pipeline: p\nsource:\n  plugin: http_check\n  sites_file: /nonexistent/sites.yaml\n" + kSink, "4:15",
         "/nonexistent/sites.yaml"},
    };
}

}  // namespace

TEST_CASE("badinput: every broken pipeline file gets its own located one-line error and exit 78", "[badinput]") {
    vigil::test::TempDir dir;
    auto cases = corpus();
    REQUIRE(cases.size() >= 30);
    std::set<std::string> distinct;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        auto file = dir.write("broken-" + std::to_string(i) + ".yaml", c.yaml);
        auto r =
            vigil::test::run({vigil::test::agent_binary().string(), "--check-config", "--pipeline", file.string()});
        INFO(c.what << "\n" << c.yaml << "\nstderr:\n" << r.err);
        CHECK(r.code == 78);
        auto first = r.err.substr(0, r.err.find('\n'));
        CHECK_THAT(first, Catch::StartsWith(file.string() + ":" + c.where));
        CHECK_THAT(first, Catch::Contains(": error: "));
        CHECK_THAT(first, Catch::Contains(c.says, Catch::CaseSensitive::No));
        distinct.insert(first.substr(file.string().size()));
    }
    CHECK(distinct.size() == cases.size());  // each its own message
}

TEST_CASE("badinput: no password, token or cookie reaches an error or --check-config's output", "[badinput]") {
    vigil::test::TempDir dir;
    auto check_config = [&](const std::string& name, const std::string& yaml) {
        auto file = dir.write(name, yaml);
        return vigil::test::run({vigil::test::agent_binary().string(), "--check-config", "--pipeline", file.string()});
    };
    // Refused files: the secret is in the part each message is about.
    for (const auto& yaml : {
             "pipeline: p\n" + kSource +
                 "sinks:\n  - plugin: pg_sink\n    url: \"postgresql://vigil:s3cr%zzet@h/db\"\n",
             "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"ftp://ops:s3cr%zzet@x/\"}]\n" +
                 kSink,
             "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: \"http://ops:s3cr%zzet@[::1/\"}]\n" +
                 kSink,
             "pipeline: p\n" + kSource +
                 "sinks:\n  - plugin: kafka_sink\n    brokers: a:1\n    topic: t\n    security:\n"
                 "      protocol: SASL_SSL\n      username: u\n      password: \"s3cr%zzet${\"\n",
         }) {
        auto r = check_config("refused.yaml", yaml);
        INFO(yaml << "\nstderr:\n" << r.err);
        CHECK(r.code == 78);
        CHECK_FALSE(r.err.empty());
        CHECK(r.err.find("zzet") == std::string::npos);
    }
    // An accepted file: its effective configuration keeps URLs' shapes, not their secrets.
    auto r =
        check_config("ok.yaml",
                     "pipeline: p\nsource:\n  plugin: http_check\n  sites:\n"
                     "    - name: a\n      url: \"https://ops:s3cr3t-pw@shop.example/x?page=2&api_key=s3cr3t-key\"\n"
                     "      headers: {Cookie: \"session=s3cr3t-cookie\", Authorization: \"Bearer s3cr3t-bearer\", "
                     "Proxy-Authorization: \"Basic s3cr3t-proxy\", X-Api-Key: s3cr3t-header, Accept: text/html}\n" +
                         kSink);
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("https://ops:***@shop.example/x?page=2&api_key=***") != std::string::npos);
    CHECK(r.out.find("Accept: text/html") != std::string::npos);
    CHECK(r.out.find("s3cr3t") == std::string::npos);
    CHECK(r.err.find("s3cr3t") == std::string::npos);
}

TEST_CASE("badinput: every way TLS verification gets weaker is a located warning; the file still loads", "[badinput]") {
    vigil::test::TempDir dir;
    auto file = dir.write("weak.yaml", R"(pipeline: w
source:
  plugin: http_check
  verify_tls: false
  sites:
    - {name: a, url: "https://x/", allow_downgrade: true}
    - {name: b, url: "https://y/", verify_tls: false}
sinks:
  - plugin: kafka_sink
    brokers: a:1
    topic: t
    security: {protocol: SASL_PLAINTEXT, username: u, password: p}
  - plugin: kafka_sink
    alias: k2
    brokers: a:1
    topic: t
    security: {protocol: SSL}
    librdkafka: {enable.ssl.certificate.verification: "false", ssl.endpoint.identification.algorithm: none}
  - plugin: pg_sink
    url: "postgresql://u:p@db.example.net/db"
  - plugin: pg_sink
    alias: p2
    url: "postgresql://u:p@db.example.net/db?sslmode=require"
  - plugin: pg_sink
    alias: local
    url: "postgresql://u:p@127.0.0.1/db"
  - plugin: pg_sink
    alias: strict
    url: "postgresql://u:p@db.example.net/db?sslmode=verify-full"
)");
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "--check-config", "--pipeline", file.string()},
                              {{"PGSSLMODE", ""}});
    INFO(r.err);
    CHECK(r.code == 0);
    auto at = [&](const std::string& where, const std::string& says) {
        auto prefix = file.string() + ":" + where + ": warning: ";
        auto p = r.err.find(prefix);
        INFO(where << ": " << says);
        REQUIRE(p != std::string::npos);
        CHECK_THAT(r.err.substr(p, r.err.find('\n', p) - p), Catch::Contains(says));
    };
    at("4:15", "source.verify_tls: certificates and host names are not verified");
    at("6:53", "source.sites[0].allow_downgrade: redirects from https to plain http");
    at("7:48", "source.sites[1].verify_tls: ");
    at("12:26",
       "sinks[0].security.protocol: SASL_PLAINTEXT: the password and every record cross the network "
       "unencrypted");
    at("18:18", "enable.ssl.certificate.verification: the brokers' certificates are not verified");
    at("18:64", "ssl.endpoint.identification.algorithm: the brokers' host names are not checked");
    at("20:10", "sinks[2].url: sslmode=prefer (libpq's default) falls back to an unencrypted connection");
    at("23:10", "sinks[3].url: sslmode=require encrypts but checks no certificate");
    // A loopback server and verify-full are quiet; nothing else warns.
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 9);
    CHECK(r.err.find("configuration OK") != std::string::npos);
}
