// SPDX-License-Identifier: Apache-2.0
// pg_sink: writes check records to PostgreSQL, once per check_id, acked after COMMIT.
#include "pg_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::pg_sink;

std::optional<Config> parse(const vigil::PluginContext& ctx, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, ctx.instance, diags);
}

std::unique_ptr<vigil::Sink> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<PgSink>(std::move(config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "pg_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Writes each record as a row of a PostgreSQL table, once per check_id, acked after COMMIT",
    .stability = vigil::Stability::Stable,
    .options = kOptions,
    .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
})
