// SPDX-License-Identifier: Apache-2.0
// webhook_sink: one signed, idempotent JSON (or Slack) POST per site event.
#include "vigil/plugin.hpp"
#include "webhook_sink.hpp"

namespace {

using namespace vigil::plugins::webhook_sink;

std::optional<Config> parse(const vigil::PluginContext&, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Sink> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<WebhookSink>(std::move(config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "webhook_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "POSTs each site event to a URL: signed, with an Idempotency-Key, as JSON or for Slack",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
})
