// SPDX-License-Identifier: Apache-2.0
// kafka_source: reads check records from Kafka in a consumer group, committing only what the
// sinks acknowledged.
#include "kafka_source.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::kafka_source;

std::optional<Config> parse(const vigil::PluginContext& ctx, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, "vigil-" + ctx.instance, diags);
}

// The record's schema is compiled here (validate: true): a failure is the factory's.
std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config, vigil::Diagnostics& diags) {
    std::string error;
    auto source = make_kafka_source(std::move(config), ctx.instance, ctx.logger, error);
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
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
})
