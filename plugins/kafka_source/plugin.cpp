// SPDX-License-Identifier: Apache-2.0
// kafka_source: reads check records from Kafka in a consumer group, committing only what the
// sinks acknowledged.
#include "kafka_source.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Source> make_source(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                           vigil::Diagnostics& diags) {
    auto config = vigil::plugins::kafka_source::parse_config(node, "vigil-" + ctx.instance, diags);
    if (!config) {
        return nullptr;
    }
    std::string error;
    auto source = vigil::plugins::kafka_source::make_kafka_source(std::move(*config), ctx.instance, ctx.logger, error);
    if (!source) {
        diags.error(error);
    }
    return source;
}

}  // namespace

VIGIL_PLUGIN({
    .name = "kafka_source",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Reads check records from Kafka topics in a consumer group; commits only acknowledged offsets",
    .stability = vigil::Stability::Stable,
    .options = vigil::plugins::kafka_source::kOptions,
    .make_source = &make_source,
})
