// SPDX-License-Identifier: Apache-2.0
// stdout_sink: the smallest complete Vigil plugin. Copy this folder to start a new sink.
#include "stdout_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::stdout_sink;

std::optional<Config> parse(const vigil::PluginContext&, const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Sink> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<StdoutSink>(std::move(config), ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "stdout_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Writes each record as one JSON line to standard output or a file",
    .stability = vigil::Stability::Stable,
    .options = kOptions,
    .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
})
