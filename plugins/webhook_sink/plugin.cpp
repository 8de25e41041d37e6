// SPDX-License-Identifier: Apache-2.0
// webhook_sink: one signed, idempotent JSON (or Slack) POST per site event.
#include "vigil/plugin.hpp"
#include "webhook_sink.hpp"

namespace {

std::unique_ptr<vigil::Sink> make_sink(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                       vigil::Diagnostics& diags) {
    auto config = vigil::plugins::webhook_sink::parse_config(node, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::webhook_sink::WebhookSink>(std::move(*config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "webhook_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "POSTs each site event to a URL: signed, with an Idempotency-Key, as JSON or for Slack",
    .stability = vigil::Stability::Alpha,
    .options = vigil::plugins::webhook_sink::kOptions,
    .make_sink = &make_sink,
})
