// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "plugin_config.hpp"
#include "vigil/config_map.hpp"
#include "webhook_sink_config.hpp"

using namespace vigil::plugins::webhook_sink;

namespace {
std::optional<Config> parse(const std::string& yaml, std::string& errors) {
    auto s = vigil::test::check_section("plugin: webhook_sink\n" + yaml, kOptions, vigil::PluginKind::Sink);
    auto c = s->diags.has_errors() ? std::nullopt : parse_config(s->node, s->diags);
    errors = s->errors();
    return c;
}
}  // namespace

TEST_CASE("webhook_sink: options and their errors", "[unit][config]") {
    std::string errors;
    auto c = parse("url: \"https://hooks.example/T0/B0/xyz\"\nformat: slack\n", errors);
    INFO(errors);
    REQUIRE(c);
    CHECK(c->format == Format::Slack);
    CHECK(c->secret.empty());
    CHECK_FALSE(parse("url: \"ftp://x\"\n", errors));
    CHECK_THAT(errors, Catch::Contains("url: must be an http:// or https:// URL"));
    CHECK_FALSE(parse("url: \"http://x\"\nformat: teams\n", errors));
    CHECK_THAT(errors, Catch::Contains("format"));
    CHECK_FALSE(parse("url: \"http://x\"\nheaders: {\"a b\": c}\n", errors));
    CHECK_THAT(errors, Catch::Contains("headers.a b: is not a header"));
}

TEST_CASE("webhook_sink: sample.yaml validates and the README documents every option", "[unit][config]") {
    vigil::test::check_sample(PLUGIN_DIR, kOptions, vigil::PluginKind::Sink, "sinks[0]");
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("webhook_sink: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::webhook_sink;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}
