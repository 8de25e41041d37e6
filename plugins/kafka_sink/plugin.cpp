// SPDX-License-Identifier: Apache-2.0
// kafka_sink: publishes each check record as JSON to a Kafka topic, acked by delivery reports.
#include "kafka_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::kafka_sink;

std::optional<Config> parse(const vigil::PluginContext& ctx, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, "vigil-" + ctx.instance, diags);
}

std::unique_ptr<vigil::Sink> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<KafkaSink>(std::move(config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "kafka_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Publishes each record as JSON to a Kafka topic (idempotent, acks=all)",
    .stability = vigil::Stability::Stable,
    .options = kOptions,
    .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
})
