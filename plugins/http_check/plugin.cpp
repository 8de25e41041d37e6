// SPDX-License-Identifier: Apache-2.0
// http_check: checks websites on a fixed schedule (status, timings, a regex over the body).
#include <curl/curl.h>

#include "http_check.hpp"
#include "sites_command.hpp"
#include "http_check_config.hpp"
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

// A secret written out in the definition (not a ${VAR} reference, which is published as that
// text): everyone who can read the topic could read it.
bool literal_secret(const vigil::ConfigNode& node, const char* key) {
    if (!node.has(key)) {
        return false;
    }
    auto value = node.get_secret(key).reveal();
    bool reference =
        value.size() > 3 && value.rfind("${", 0) == 0 && value.back() == '}' && value.find('}') == value.size() - 1;
    return !value.empty() && !reference;
}

bool read_for_topic(const vigil::ConfigNode& section, const vigil::ConfigNode& entry,
                    const vigil::checks::TopicPolicy& policy, bool allow_secrets, vigil::Diagnostics& diags) {
    if (!allow_secrets) {
        for (auto [node, key] : {std::pair{entry, "bearer_token"}, std::pair{entry.child("basic_auth"), "password"}}) {
            if (literal_secret(node, key)) {
                diags.error(node.location_of(key), node.path_of(key),
                            "a secret in a site definition is readable by everyone who can read the topic: "
                            "pass --allow-secrets to publish it anyway, or let the producers use their own "
                            "(sites_topic.inherit_credentials)");
                return false;
            }
        }
    }
    static SiteCache cache;  // one command per process: patterns compiled once across the list
    return read_site(section, entry, diags, cache, &policy).has_value();
}

int sites(const vigil::CommandContext& ctx, const vigil::ConfigNode& section, vigil::Diagnostics& diags) {
    return vigil::checks::sites_command(ctx, section, diags,
                                        {.kind = "http",
                                         .site_table = kSiteOptions,
                                         .restricted = kTopicRestricted,
                                         .read = &read_for_topic,
                                         .self = &sites});
}

const vigil::PluginCommand kCommands[] = {
    {.name = "sites",
     .usage = vigil::checks::kSitesUsage,
     .description = "Edit and read the sites topic of the pipeline's sites_topic (sites of every kind)",
     .run = &sites},
    {},
};

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
