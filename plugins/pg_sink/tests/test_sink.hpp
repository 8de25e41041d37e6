// SPDX-License-Identifier: Apache-2.0
// What pg_sink's database tests share: a sink made from YAML the way the agent makes it, and a
// database migrated by the agent binary.
#pragma once

#include <chrono>
#include <cstdint>
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

/// A good check of the site "site-<id>" whose check_id is `id`.
inline vigil::CheckRecord record(const std::string& id) {
    vigil::CheckRecord r;
    r.name = "site-" + id;
    r.url = "https://example.com/" + id;
    r.response_time = 12.5;
    r.status_code = 200;
    r.regex = "Example";
    r.regex_check = true;
    r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'800'000'000'000'000));
    r.check_id = id;
    r.agent = "host";
    r.ok = true;
    return r;
}

/// record(from) .. record(from + n - 1), each with a Kafka-like origin.
inline vigil::Batch batch(int from, int n, std::uint64_t sequence = 1) {
    vigil::Batch b;
    b.sequence = sequence;
    for (int i = from; i < from + n; ++i) {
        b.records.push_back({record(std::to_string(i)), "topic=t partition=0 offset=" + std::to_string(i)});
    }
    return b;
}

inline void migrate(const std::string& url) {
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "migrate", "--database-url", url});
    INFO(r.err);
    REQUIRE(r.code == 0);
}

}  // namespace vigil::test::pg_sink
