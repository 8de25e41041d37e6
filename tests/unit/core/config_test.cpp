// SPDX-License-Identifier: Apache-2.0
// Validation of plugin sections against option tables: every message exact, with file:line:col.
#include <catch2/catch.hpp>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "app/pipeline_config.hpp"
#include "vigil/config.hpp"
#include "config/printer.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

using vigil::OptionSpec;
using vigil::OptionType;
using vigil::PluginKind;
using vigil::test::check_section;

namespace {
const char* const kProtocols[] = {"PLAINTEXT", "SASL_SSL", nullptr};
const OptionSpec kSecurity[] = {
    {.key = "protocol",
     .type = OptionType::String,
     .default_value = "PLAINTEXT",
     .one_of = kProtocols,
     .description = "Transport"},
    {.key = "password", .type = OptionType::Secret, .description = "SASL password"},
    {},
};
const OptionSpec kSite[] = {
    {.key = "name", .type = OptionType::String, .required = true, .description = "Site name"},
    {.key = "url", .type = OptionType::String, .required = true, .description = "URL"},
    {},
};
const OptionSpec kOptions[] = {
    {.key = "brokers", .type = OptionType::String, .required = true, .description = "Bootstrap servers"},
    {.key = "topic", .type = OptionType::String, .default_value = "website-metrics", .description = "Topic"},
    {.key = "timeout", .type = OptionType::Duration, .default_value = "5s", .description = "Timeout"},
    {.key = "max_body", .type = OptionType::Size, .default_value = "1MiB", .description = "Body cap"},
    {.key = "retries", .type = OptionType::Int, .default_value = "3", .description = "Retries"},
    {.key = "ratio", .type = OptionType::Float, .default_value = "0.5", .description = "Ratio"},
    {.key = "verify", .type = OptionType::Bool, .default_value = "true", .description = "Verify"},
    {.key = "tags", .type = OptionType::StringList, .description = "Tags"},
    {.key = "librdkafka", .type = OptionType::StringMap, .description = "Pass-through"},
    {.key = "security", .type = OptionType::Map, .children = kSecurity, .description = "Security"},
    {.key = "sites", .type = OptionType::List, .children = kSite, .description = "Sites"},
    {},
};
std::string effective(const vigil::ConfigNode& node) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    vigil::config::emit_effective(out, node);
    out << YAML::EndMap;
    return out.c_str();
}
}  // namespace

TEST_CASE("a valid section yields typed values, defaults and interpolation", "[unit][config]") {
    auto s = check_section(R"(plugin: x
brokers: ${BROKERS}
timeout: 250ms
tags: [a, b]
librdkafka: {linger.ms: "5", client.id: vigil}
security: {protocol: SASL_SSL, password: "${PW:-hunter2}"}
sites:
  - {name: shop, url: "https://shop.example/"}
)",
                           kOptions, PluginKind::Sink, "", "p.yaml", {{"BROKERS", "127.0.0.1:9092"}});
    REQUIRE(s->errors() == "");
    const auto& n = s->node;
    CHECK(n.get_string("brokers") == "127.0.0.1:9092");
    CHECK(n.get_string("topic") == "website-metrics");
    CHECK(n.get_duration("timeout") == std::chrono::milliseconds(250));
    CHECK(n.get_size("max_body") == 1024 * 1024);
    CHECK(n.get_int("retries") == 3);
    CHECK(n.get_float("ratio") == 0.5);
    CHECK(n.get_bool("verify"));
    CHECK(n.get_string_list("tags") == std::vector<std::string>{"a", "b"});
    auto rd = n.get_string_map("librdkafka");
    REQUIRE(rd.size() == 2);
    CHECK(rd[0] == std::pair<std::string, std::string>{"linger.ms", "5"});
    CHECK(n.child("security").get_string("protocol") == "SASL_SSL");
    CHECK(n.child("security").get_secret("password").reveal() == "hunter2");
    auto sites = n.items("sites");
    REQUIRE(sites.size() == 1);
    CHECK(sites[0].get_string("name") == "shop");
    CHECK(sites[0].path() == "sites[0]");
    CHECK(sites[0].location_of("url").line == 8);
}

TEST_CASE("every error is reported at once, in file order, with line:col and key path", "[unit][config]") {
    auto s = check_section(R"(plugin: x
brokr: a
timeout: 10
max_body: 1 MiB
retries: three
verify: yes
tags: a
security: {protocol: SASL, pasword: x}
sites:
  - {name: shop}
  - url: x
    name: y
    name: z
)",
                           kOptions, PluginKind::Sink, "", "etc/producer.yaml");
    CHECK(s->errors() ==
          "etc/producer.yaml:1:1: error: missing required option \"brokers\" (Bootstrap servers)\n"
          "etc/producer.yaml:2:1: error: brokr: unknown option; did you mean \"brokers\"? (allowed: plugin, "
          "alias, retry, brokers, topic, timeout, max_body, retries, ratio, verify, tags, librdkafka, "
          "security, sites)\n"
          "etc/producer.yaml:3:10: error: timeout: expected a duration such as 250ms, 10s, 5m or 1h, got \"10\"\n"
          "etc/producer.yaml:4:11: error: max_body: expected a size such as 4096, 512KiB or 1MiB, got \"1 MiB\"\n"
          "etc/producer.yaml:5:10: error: retries: expected an integer, got \"three\"\n"
          "etc/producer.yaml:6:9: error: verify: expected true or false, got \"yes\"\n"
          "etc/producer.yaml:7:7: error: tags: expected a list of strings, e.g. [a, b]\n"
          "etc/producer.yaml:8:22: error: security.protocol: \"SASL\" is not one of: PLAINTEXT, SASL_SSL\n"
          "etc/producer.yaml:8:28: error: security.pasword: unknown option; did you mean \"password\"? "
          "(allowed: protocol, password)\n"
          "etc/producer.yaml:10:5: error: sites[0]: missing required option \"url\" (URL)\n"
          "etc/producer.yaml:13:5: error: sites[1].name: duplicate key \"name\" (first at 12:5)\n");
}

TEST_CASE("duplicate keys are errors at the second occurrence", "[unit][config]") {
    auto s = check_section("plugin: x\nbrokers: a\ntimeout: 1s\nbrokers: b\n", kOptions, PluginKind::Sink);
    CHECK(s->errors() == "test.yaml:4:1: error: brokers: duplicate key \"brokers\" (first at 2:1)\n");
}

TEST_CASE("an unset variable is an error at the value that uses it", "[unit][config]") {
    auto s = check_section("plugin: x\nbrokers: ${KAFKA_BOOTSTRAP_SERVERS}\n", kOptions, PluginKind::Sink);
    CHECK(s->errors() ==
          "test.yaml:2:10: error: brokers: environment variable KAFKA_BOOTSTRAP_SERVERS is not set "
          "(use ${KAFKA_BOOTSTRAP_SERVERS:-default} for a default)\n");
}

TEST_CASE("secrets come from <key>_file, not both, and never print", "[unit][config]") {
    vigil::test::TempDir dir;
    auto secret = dir.write("pw", "s3cr3t\n");
    auto yaml = "plugin: x\nbrokers: b\nsecurity:\n  password_file: " + secret.string() + "\n";
    auto s = check_section(yaml, kOptions, PluginKind::Sink);
    REQUIRE(s->errors() == "");
    CHECK(s->node.child("security").get_secret("password").reveal() == "s3cr3t");

    auto both = check_section("plugin: x\nbrokers: b\nsecurity: {password: a, password_file: /x}\n", kOptions,
                              PluginKind::Sink);
    CHECK(both->errors().find("security.password_file: set \"password\" or \"password_file\", not both") !=
          std::string::npos);

    auto missing = check_section("plugin: x\nbrokers: b\nsecurity: {password_file: /nonexistent/pw}\n", kOptions,
                                 PluginKind::Sink);
    CHECK(missing->errors() ==
          "test.yaml:3:27: error: security.password_file: cannot read secret file "
          "\"/nonexistent/pw\": No such file or directory\n");

    std::string printed = effective(s->node);
    CHECK(printed.find("s3cr3t") == std::string::npos);
    CHECK(printed.find("password: <redacted>") != std::string::npos);
    CHECK(printed.find("timeout: 5s") != std::string::npos);  // defaults are shown
}

TEST_CASE("free-form maps redact keys that look like secrets", "[unit][config]") {
    auto s = check_section(
        "plugin: x\nbrokers: b\nlibrdkafka: {sasl.password: hunter2, linger.ms: '5', "
        "ssl.key.location: /k.pem}\n",
        kOptions, PluginKind::Sink);
    REQUIRE(s->errors() == "");
    std::string printed = effective(s->node);
    CHECK(printed.find("hunter2") == std::string::npos);
    CHECK(printed.find("linger.ms: 5") != std::string::npos);
    CHECK(printed.find("ssl.key.location: /k.pem") != std::string::npos);
}

TEST_CASE("invalid YAML is one located error", "[unit][config]") {
    auto s = check_section("plugin: x\nbrokers: [a, b\n", kOptions, PluginKind::Sink, "", "bad.yaml");
    CHECK(s->errors() == "bad.yaml:3:1: error: invalid YAML: end of sequence flow not found\n");
}

TEST_CASE("getters refuse keys the table does not declare", "[unit][config]") {
    auto s = check_section("plugin: x\nbrokers: b\n", kOptions, PluginKind::Sink);
    REQUIRE(s->errors() == "");
    CHECK_THROWS_AS(s->node.get_string("not_declared"), std::logic_error);
    CHECK_THROWS_AS(s->node.get_int("topic"), std::logic_error);
}

TEST_CASE("the pipeline file's own keys are validated with the same rules", "[unit][config]") {
    vigil::test::TempDir dir;
    auto path = dir.write("p.yaml",
                          "pipeline: p\nsource: {plugin: a}\nsinks: []\nmax_in_flight: 0\n"
                          "drain_timout: 5s\nlog: {level: loud}\n");
    vigil::Diagnostics diags;
    auto file = vigil::app::load_pipeline_file(path, diags);
    REQUIRE(file);
    auto p = path.string();
    CHECK(diags.render() ==
          p + ":3:8: error: sinks: at least one sink is required\n" + p +
              ":4:16: error: max_in_flight: must be between 1 and 100000, got 0\n" + p +
              ":5:1: error: drain_timout: unknown option; did you mean \"drain_timeout\"? (allowed: "
              "pipeline, source, sources, sinks, max_in_flight, drain_timeout, dead_letter_file, dead_letter_max_size, "
              "dead_letter_keep, buffer, log, metrics, "
              "plugin_dirs)\n" +
              p + ":6:14: error: log.level: \"loud\" is not one of: trace, debug, info, warn, error, off\n");
}

TEST_CASE("diagnostics are capped so a broken file does not flood the terminal", "[unit][config]") {
    vigil::Diagnostics d;
    for (int i = 0; i < 30; ++i) {
        d.error({"f.yaml", i + 1, 1}, "k", "bad");
    }
    auto text = d.render(20);
    CHECK(std::count(text.begin(), text.end(), '\n') == 21);
    CHECK(text.find("... and 10 more") != std::string::npos);
}

TEST_CASE("a JSON site list cut inside a UTF-8 sequence is a located error, read within bounds", "[unit][config]") {
    // Found by the config fuzzer (tests/fuzz/regressions/config/truncated-utf8-at-end.json): RapidJSON
    // validated the cut sequence past the string's end. The ASan run of this test reads exactly
    // the bytes given, in a heap buffer longer than the small-string buffer.
    for (std::string text :
         {std::string("[{\"name\": \"abcdefghijklmnop\xed"), std::string("[{\"name\": \"x\xf0\x9f")}) {
        vigil::Diagnostics diags;
        int accepted = 0;
        vigil::for_each_in_list(text, "sites.json", ".", kSite, diags, [&](const vigil::ConfigNode&) { ++accepted; });
        CHECK(accepted == 0);
        CHECK(diags.render().rfind("sites.json:1:", 0) == 0);
        CHECK(diags.render().find("invalid JSON: Invalid encoding in string.") != std::string::npos);
    }
}

TEST_CASE("a JSON site list is read without yaml-cpp: values as written, each problem at its line and column",
          "[unit][config]") {
    const OptionSpec table[] = {
        {.key = "name", .type = OptionType::String, .required = true, .description = "Site name"},
        {.key = "url", .type = OptionType::String, .required = true, .description = "URL"},
        {.key = "weight", .type = OptionType::Float, .description = "w"},
        {.key = "on", .type = OptionType::Bool, .description = "on"},
        {.key = "tags", .type = OptionType::StringList, .description = "tags"},
        {.key = "headers", .type = OptionType::StringMap, .description = "headers"},
        {},
    };
    std::string text =
        "[\n  {\"name\": \"a\", \"url\": \"http://a/\", \"weight\": 1.50e1, \"on\": true,\n"
        "   \"tags\": [\"x\", \"y\\u00e9\"], \"headers\": {\"X-A\": \"1\"}},\n"
        "  {\"name\": \"b\", \"name\": \"c\", \"url\": null},\n"
        "  7,\n"
        "  {\"url\": \"http://d/\", \"weight\": \"heavy\"}\n]";
    vigil::Diagnostics diags;
    std::vector<std::string> seen;
    vigil::for_each_in_list(text, "sites.json", ".", table, diags, [&](const vigil::ConfigNode& n) {
        seen.push_back(n.get_string("name") + " " + n.get_string("url") + " " +
                       fmt::format("{}", n.get_float("weight")) + " " + (n.get_bool("on") ? "on" : "off") + " " +
                       n.get_string_list("tags").at(1) + " " + n.get_string_map("headers").at(0).second + " " +
                       n.to_json());
        auto at = [](const vigil::SourceLocation& l) { return fmt::format("{}:{}:{}", l.file, l.line, l.column); };
        CHECK(at(n.location_of("weight")) == "sites.json:2:47");
        CHECK(at(n.location_of("on")) == "sites.json:2:61");
        CHECK(at(n.location_of_entry("headers", "X-A")) == "sites.json:3:42");
    });
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] ==
          "a http://a/ 15 on y\xc3\xa9 1 "
          "{\"name\":\"a\",\"url\":\"http://a/\",\"weight\":15.0,\"on\":true,\"tags\":[\"x\",\"y\xc3\xa9\"],"
          "\"headers\":{\"X-A\":\"1\"}}");
    CHECK(diags.render() ==
          "sites.json:4:17: error: [1].name: duplicate key \"name\" (first at 4:4)\n"
          "sites.json:4:37: error: [1].url: expected a value, got null\n"
          "sites.json:5:3: error: [2]: expected a map\n"
          "sites.json:6:3: error: [3]: missing required option \"name\" (Site name)\n"
          "sites.json:6:34: error: [3].weight: expected a number, got \"heavy\"\n");
}

TEST_CASE("YAML aliases can neither recurse nor multiply the tree beyond its text", "[unit][config]") {
    auto cycle = check_section("plugin: x\nbrokers: &b [*b]\n", kOptions, PluginKind::Sink, "", "c.yaml");
    CHECK(cycle->errors().find("invalid YAML: nesting deeper than 256 levels (or an alias inside its own anchor)") !=
          std::string::npos);
    std::string laughs = "plugin: x\nbrokers: b\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 7; ++i) {
        laughs += fmt::format("a{0}: &a{0} [", i);
        for (int j = 0; j < 10; ++j) {
            laughs += fmt::format("{}*a{}", j == 0 ? "" : ", ", i - 1);
        }
        laughs += "]\n";
    }
    auto many = check_section(laughs, kOptions, PluginKind::Sink, "", "l.yaml");
    CHECK(many->errors().find("invalid YAML: aliases expand to more nodes than the text could hold") !=
          std::string::npos);
}
