// SPDX-License-Identifier: Apache-2.0
// pg_events: reads the site events pg_sink keeps, after a durable cursor moved on acknowledgement.
#include "pg_events.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::pg_events;

std::optional<Config> parse(const vigil::PluginContext& ctx, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, ctx.instance, ctx.pipeline, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<PgEvents>(std::move(config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "pg_events",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Reads site state changes from PostgreSQL after a durable cursor, for alert sinks",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
})
