// SPDX-License-Identifier: Apache-2.0
// `agent sites import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list --pipeline P`:
// the sites topic edited from the command line, by every check plugin alike. Sites are validated
// as a site list in a file is (a bad entry is a located error and nothing is published), against
// the producers' pipeline file (its plugin-level defaults), then written to the topic. A site of
// another kind goes to the pipeline's plugin of that kind (CommandContext::peers): `import` of a
// list of HTTP, TCP and DNS sites has each validated by its plugin before any is published.
#pragma once

#include <functional>
#include <span>
#include <string_view>

#include "check_kind.hpp"
#include "sites_topic_config.hpp"
#include "vigil/plugin.hpp"

namespace vigil::checks {

struct SitesCommandKind {
    std::string_view kind;  // http, tcp, tls, dns, icmp
    const OptionSpec* site_table = nullptr;
    std::span<const char* const> restricted;  // what sites_topic.allow may name
    /// One entry read as the producers will read it under `policy` (plugin-level defaults from
    /// `section`); false once it said why in `diags`. `allow_secrets`: --allow-secrets was given.
    std::function<bool(const ConfigNode& section, const ConfigNode& entry, const TopicPolicy& policy,
                       bool allow_secrets, Diagnostics& diags)>
        read;
    CommandFn self = nullptr;  // this plugin's command, for a peer that hands the work on
};

int sites_command(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags,
                  const SitesCommandKind& kind);

/// The usage line of `agent sites` for a plugin's command table.
inline constexpr const char* kSitesUsage =
    "import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list [--allow-secrets] [--dry-run]";

/// `agent sites` for a check plugin of `Kind` (CheckKind: its site reader; restricted options
/// refused unless sites_topic.allow lists them).
template <class Site, const CheckKind<Site>& Kind>
int sites_command_of(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags) {
    return sites_command(
        ctx, section, diags,
        {.kind = Kind.kind,
         .site_table = Kind.site_table,
         .restricted = Kind.restricted,
         .read =
             [](const ConfigNode& plugin, const ConfigNode& entry, const TopicPolicy& policy, bool, Diagnostics& d) {
                 static const auto read = Kind.make_reader();  // one command per process
                 return read_topic_site(Kind, read, policy, plugin, entry, d).has_value();
             },
         .self = &sites_command_of<Site, Kind>});
}

/// The command table of a check plugin of `Kind`: `agent sites`.
template <class Site, const CheckKind<Site>& Kind>
inline const PluginCommand kSitesCommands[] = {
    {.name = "sites",
     .usage = kSitesUsage,
     .description = "Edit and read the sites topic of the pipeline's sites_topic (sites of every kind)",
     .run = &sites_command_of<Site, Kind>},
    {},
};

}  // namespace vigil::checks
