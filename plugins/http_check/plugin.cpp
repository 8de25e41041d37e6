// SPDX-License-Identifier: Apache-2.0
// http_check: checks websites on a fixed schedule (status, timings, a regex over the body).
#include <curl/curl.h>

#include "http_check.hpp"
#include "sites_command.hpp"
#include "vigil/plugin.hpp"

namespace {

std::unique_ptr<vigil::Source> make_source(const vigil::PluginContext& ctx, const vigil::ConfigNode& node,
                                           vigil::Diagnostics& diags) {
    // Safe to call more than once; must happen before any other curl call in the process.
    static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready) {
        diags.error(node.location(), node.path(), "libcurl failed to initialise");
        return nullptr;
    }
    auto config = vigil::plugins::http_check::parse_config(node, diags);
    if (!config) {
        return nullptr;
    }
    return std::make_unique<vigil::plugins::http_check::HttpCheck>(std::move(*config), ctx.instance, ctx.agent,
                                                                   ctx.logger);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "http_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Checks websites on a fixed schedule: status, phase timings, a regex over the body",
    .stability = vigil::Stability::Alpha,
    .options = vigil::plugins::http_check::kOptions,
    .make_source = &make_source,
    .commands = vigil::plugins::http_check::kCommands,
})
