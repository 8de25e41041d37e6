// SPDX-License-Identifier: Apache-2.0
// What pg_sink's database tests share: a sink made from YAML the way the agent makes it, and a
// database migrated by the agent binary.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "pg_sink.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

namespace vigil::test::pg_sink {

using vigil::plugins::pg_sink::PgSink;

inline std::unique_ptr<PgSink> make_sink(const std::string& url, const std::string& extra = "") {
    auto s = vigil::test::check_section("plugin: pg_sink\nurl: \"" + url + "\"\n" + extra,
                                        vigil::plugins::pg_sink::kOptions, vigil::PluginKind::Sink);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = vigil::plugins::pg_sink::parse_config(s->node, "pg_sink.test", s->diags);
    INFO(s->errors());
    REQUIRE(c);
    return std::make_unique<PgSink>(std::move(*c), "pg_sink.test", vigil::Logger("pg_sink.test"));
}

inline void migrate(const std::string& url) {
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "migrate", "--database-url", url});
    INFO(r.err);
    REQUIRE(r.code == 0);
}

}  // namespace vigil::test::pg_sink
