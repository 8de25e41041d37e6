// SPDX-License-Identifier: Apache-2.0
// pg_sink: writes check records to PostgreSQL, once per check_id, acked after COMMIT.
#include "pg_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Sink> make_sink(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                       vigil::Diagnostics& diags) {
    auto config = vigil::plugins::pg_sink::parse_config(node, ctx.instance, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::pg_sink::PgSink>(std::move(*config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "pg_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Writes each record as a row of a PostgreSQL table, once per check_id, acked after COMMIT",
    .stability = vigil::Stability::Stable,
    .options = vigil::plugins::pg_sink::kOptions,
    .make_sink = &make_sink,
})
