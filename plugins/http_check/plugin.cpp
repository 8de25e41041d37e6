// SPDX-License-Identifier: Apache-2.0
// http_check: checks websites on a fixed schedule (status, timings, a regex over the body).
#include <curl/curl.h>

#include "http_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

using namespace vigil::plugins::http_check;

std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    // Safe to call more than once; must happen before any other curl call in the process.
    static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready) {
        diags.error(node.location(), node.path(), "libcurl failed to initialise");
        return std::nullopt;
    }
    return parse_config(node, diags);
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config config) {
    return std::make_unique<HttpCheck>(std::move(config), ctx.instance, ctx.agent, ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "http_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Checks websites on a fixed schedule: status, phase timings, a regex over the body",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
    .commands = kCommands,
})
