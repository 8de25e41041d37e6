// SPDX-License-Identifier: Apache-2.0
// tcp_check: TCP ports checked on a fixed schedule: connect time, and optionally a greeting or an
// answer to what was sent, matched with RE2.
#include "tcp_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::tcp_check;

std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<TcpCheck>(kKind, std::move(config), ctx.instance, ctx.agent, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "tcp_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Checks TCP ports (tcp://host:port): connect time, and a banner or answer matched with RE2",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
    .commands = vigil::checks::kSitesCommands<Site, kKind>,
})
