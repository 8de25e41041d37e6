// SPDX-License-Identifier: Apache-2.0
// dns_check: DNS answers checked on a fixed schedule: the response code, the records of the asked
// type (a set, or RE2 over them) and the response time.
#include "dns_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::dns_check;

std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<DnsCheck>(kKind, std::move(config), ctx.instance, ctx.agent, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "dns_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Checks DNS answers (dns://server/name?type=T): rcode, the records, response time; c-ares and ldns",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
    .commands = vigil::checks::kSitesCommands<Site, kKind>,
})
