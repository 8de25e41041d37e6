// SPDX-License-Identifier: Apache-2.0
// alertmanager_sink: posts site events to Prometheus Alertmanager as firing and resolved alerts.
#include "alertmanager_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::alertmanager_sink;

std::optional<Config> parse(const vigil::PluginContext&, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Sink> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<AlertmanagerSink>(std::move(config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "alertmanager_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Posts site events to Prometheus Alertmanager (API v2) as firing and resolved alerts",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
})
