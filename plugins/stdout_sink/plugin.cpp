// SPDX-License-Identifier: Apache-2.0
// stdout_sink: the smallest complete Vigil plugin. Copy this folder to start a new sink.
#include "stdout_sink.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Sink> make_sink(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                       vigil::Diagnostics& diags) {
    auto config = vigil::plugins::stdout_sink::parse_config(node, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::stdout_sink::StdoutSink>(std::move(*config), ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "stdout_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "1.0.0",
    .description = "Writes each record as one JSON line to standard output or a file",
    .stability = vigil::Stability::Stable,
    .options = vigil::plugins::stdout_sink::kOptions,
    .make_sink = &make_sink,
})
