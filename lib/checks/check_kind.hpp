// SPDX-License-Identifier: Apache-2.0
// What the shared machinery needs to know of a kind of check to read its sites wherever they come
// from (a list, the sites topic, `agent sites`): its names, its site table, the options a
// sites-topic message may set only when allowed, and a reader of one site.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include <fmt/core.h>

#include "sites_topic_config.hpp"
#include "vigil/config.hpp"

namespace vigil::checks {

/// Reads one entry (a map validated against the site table) as a site, with `plugin` (the
/// section) giving what it does not set; nullopt once it said why in `diags`, located.
template <class Site>
using ReadSite =
    std::function<std::optional<Site>(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags)>;

template <class Site>
struct CheckKind {
    std::string_view plugin;  // tcp_check: metric names, logs
    std::string_view kind;    // tcp: the records' kind, the URL schemes it takes (kind_of_url)
    const OptionSpec* site_table = nullptr;
    std::span<const char* const> restricted;    // what a sites-topic message may set only if allowed
    ReadSite<Site> (*make_reader)() = nullptr;  // a reader with fresh caches (compiled patterns, warnings)
};

/// A sites-topic message setting an option `restricted` names that `policy` does not allow: an
/// error each, located. True when there was none.
inline bool allowed_by(const TopicPolicy& policy, std::span<const char* const> restricted, const ConfigNode& entry,
                       Diagnostics& diags) {
    bool ok = true;
    for (const char* key : restricted) {
        if (entry.has(key) && policy.allow.count(key) == 0) {
            diags.error(entry.location_of(key), entry.path_of(key),
                        fmt::format("a sites-topic message may not set {} unless sites_topic.allow lists it", key));
            ok = false;
        }
    }
    return ok;
}

/// One sites-topic entry read as a site of `kind` by `read` (one of kind.make_reader()'s): an
/// option the policy does not allow refuses it first.
template <class Site>
std::optional<Site> read_topic_site(const CheckKind<Site>& kind, const ReadSite<Site>& read, const TopicPolicy& policy,
                                    const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags) {
    if (!allowed_by(policy, kind.restricted, entry, diags)) {
        return std::nullopt;
    }
    return read(plugin, entry, diags);
}

}  // namespace vigil::checks
