// SPDX-License-Identifier: Apache-2.0
// kafka_sink: publishes each check record as JSON to a Kafka topic, acked by delivery reports.
#include "kafka_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Sink> make_sink(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                       vigil::Diagnostics& diags) {
    auto config = vigil::plugins::kafka_sink::parse_config(node, "vigil-" + ctx.instance, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::kafka_sink::KafkaSink>(std::move(*config), ctx.instance, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "kafka_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Publishes each record as JSON to a Kafka topic (idempotent, acks=all)",
    .stability = vigil::Stability::Stable,
    .options = vigil::plugins::kafka_sink::kOptions,
    .make_sink = &make_sink,
})
