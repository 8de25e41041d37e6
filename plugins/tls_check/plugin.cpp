// SPDX-License-Identifier: Apache-2.0
// tls_check: TLS endpoints checked on a fixed schedule, directly or after STARTTLS: the chain, the
// name, the expiry, the protocol version and cipher, a stapled OCSP answer.
#include "tls_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::tls_check;

std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<TlsCheck>(kKind, std::move(config), ctx.instance, ctx.agent, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "tls_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description =
        "Checks TLS certificates on any port (tls://, starttls:// for SMTP, IMAP, POP3, FTP, XMPP, PostgreSQL)",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
    .commands = vigil::checks::kSitesCommands<Site, kKind>,
})
