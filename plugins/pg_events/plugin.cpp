// SPDX-License-Identifier: Apache-2.0
// pg_events: reads the site events pg_sink keeps, after a durable cursor moved on acknowledgement.
#include "pg_events.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Source> make_source(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                           vigil::Diagnostics& diags) {
    auto config = vigil::plugins::pg_events::parse_config(node, ctx.instance, ctx.pipeline, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::pg_events::PgEvents>(std::move(*config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "pg_events",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Reads site state changes from PostgreSQL after a durable cursor, for alert sinks",
    .stability = vigil::Stability::Alpha,
    .options = vigil::plugins::pg_events::kOptions,
    .make_source = &make_source,
})
