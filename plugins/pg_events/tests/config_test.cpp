// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "pg_events_config.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::pg_events;

namespace {
std::optional<Config> parse(const std::string& yaml, std::string& errors) {
    auto s = vigil::test::check_section("plugin: pg_events\nurl: \"postgresql://u@127.0.0.1/db\"\n" + yaml, kOptions,
                                        vigil::PluginKind::Source);
    auto c = s->diags.has_errors() ? std::nullopt : parse_config(s->node, "pg_events.0", "alerts", s->diags);
    errors = s->errors();
    return c;
}
}  // namespace

TEST_CASE("pg_events: defaults, and the cursor named after the pipeline", "[unit][config]") {
    std::string errors;
    auto c = parse("", errors);
    INFO(errors);
    REQUIRE(c);
    CHECK(c->cursor == "alerts");
    CHECK(c->batch_size == 100);
    CHECK(c->poll_interval == std::chrono::seconds(5));
    CHECK(c->refresh == std::chrono::minutes(1));
    CHECK_FALSE(c->from_beginning);
    CHECK(parse("cursor: pager\nstart: beginning\n", errors)->cursor == "pager");
}

TEST_CASE("pg_events: bad options are refused, naming the key", "[unit][config]") {
    std::string errors;
    CHECK_FALSE(parse("batch_size: 0\n", errors));
    CHECK_THAT(errors, Catch::Contains("batch_size: must be between 1 and 10000"));
    CHECK_FALSE(parse("refresh: 100ms\n", errors));
    CHECK_THAT(errors, Catch::Contains("refresh: must be 0 (never) or at least 1s"));
    CHECK_FALSE(parse("start: middle\n", errors));
    CHECK_THAT(errors, Catch::Contains("start"));
    CHECK_FALSE(parse("poll_interval: 1ms\n", errors));
    CHECK_THAT(errors, Catch::Contains("poll_interval: must be at least 10ms"));
}

TEST_CASE("pg_events: sample.yaml validates and the README documents every option", "[unit][config]") {
    vigil::test::check_sample(PLUGIN_DIR, kOptions, vigil::PluginKind::Source, "source");
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("pg_events: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::pg_events;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}
