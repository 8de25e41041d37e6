// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "alertmanager_sink_config.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::alertmanager_sink;

namespace {
std::optional<Config> parse(const std::string& yaml, std::string& errors) {
    auto s = vigil::test::check_section("plugin: alertmanager_sink\n" + yaml, kOptions, vigil::PluginKind::Sink);
    auto c = s->diags.has_errors() ? std::nullopt : parse_config(s->node, s->diags);
    errors = s->errors();
    return c;
}
}  // namespace

TEST_CASE("alertmanager_sink: urls, labels and defaults", "[unit][config]") {
    std::string errors;
    auto c = parse("urls: [\"http://a:9093\", \"https://b:9093/\"]\nlabels: {team: web}\n", errors);
    INFO(errors);
    REQUIRE(c);
    CHECK(c->urls.size() == 2);
    CHECK(c->ttl == std::chrono::minutes(5));
    CHECK(c->labels == std::vector<std::pair<std::string, std::string>>{{"team", "web"}});
}

TEST_CASE("alertmanager_sink: bad options are refused, naming the key", "[unit][config]") {
    std::string errors;
    CHECK_FALSE(parse("", errors));
    CHECK_THAT(errors, Catch::Contains("urls"));
    CHECK_FALSE(parse("urls: [\"a:9093\"]\n", errors));
    CHECK_THAT(errors, Catch::Contains("\"a:9093\" is not an http:// or https:// URL"));
    CHECK_FALSE(parse("urls: [\"http://a\"]\nlabels: {\"bad-name\": x}\n", errors));
    CHECK_THAT(errors, Catch::Contains("labels.bad-name: is not a label name"));
    CHECK_FALSE(parse("urls: [\"http://a\"]\nlabels: {site: x}\n", errors));
    CHECK_THAT(errors, Catch::Contains("labels.site: is set by the sink itself"));
    CHECK_FALSE(parse("urls: [\"http://a\"]\nlabels: {locations: x}\n", errors));
    CHECK_THAT(errors, Catch::Contains("labels.locations: is set by the sink itself"));
    CHECK_FALSE(parse("urls: [\"http://a\"]\nttl: 1s\n", errors));
    CHECK_THAT(errors, Catch::Contains("ttl: must be at least 10s"));
}

TEST_CASE("alertmanager_sink: sample.yaml validates and the README documents every option", "[unit][config]") {
    vigil::test::check_sample(PLUGIN_DIR, kOptions, vigil::PluginKind::Sink, "sinks[0]");
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("alertmanager_sink: every bound option is in the table, once, with a type its member holds",
          "[unit][config]") {
    using namespace vigil::plugins::alertmanager_sink;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}
