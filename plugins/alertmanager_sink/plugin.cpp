// SPDX-License-Identifier: Apache-2.0
// alertmanager_sink: posts site events to Prometheus Alertmanager as firing and resolved alerts.
#include "alertmanager_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Sink> make_sink(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                       vigil::Diagnostics& diags) {
    auto config = vigil::plugins::alertmanager_sink::parse_config(node, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::alertmanager_sink::AlertmanagerSink>(std::move(*config), ctx.instance,
                                                                                 ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "alertmanager_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Posts site events to Prometheus Alertmanager (API v2) as firing and resolved alerts",
    .stability = vigil::Stability::Alpha,
    .options = vigil::plugins::alertmanager_sink::kOptions,
    .make_sink = &make_sink,
})
