// SPDX-License-Identifier: Apache-2.0
// icmp_check: hosts pinged on a fixed schedule (ICMP and ICMPv6 echo): the replies, the loss and the
// round-trip times, with limits on both.
#include "icmp_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::icmp_check;

std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<IcmpCheck>(kKind, std::move(config), ctx.instance, ctx.agent, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "icmp_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Pings hosts (icmp://host, IPv4 and IPv6): loss and round-trip times, from one socket per family",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
    .commands = vigil::checks::kSitesCommands<Site, kKind>,
})
