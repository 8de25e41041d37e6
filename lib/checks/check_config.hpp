// SPDX-License-Identifier: Apache-2.0
// What every check plugin's parse_config does besides reading one site: the plugin-level options
// bound to its Config, `location` and `shard` checked, the site lists read entry by entry, each
// site kept if it falls in this agent's shard, and an empty sites_file said as a warning.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "check_kind.hpp"
#include "shard.hpp"
#include "site_lists.hpp"
#include "sites_topic_config.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"
#include "vigil/text.hpp"

namespace vigil::checks {

/// A check plugin's configuration: its sites and the plugin-level options of
/// VIGIL_CHECK_PLUGIN_OPTIONS.
template <class Site>
struct CheckConfig {
    ConfigNode plugin;  // the section: the defaults of the sites a sites topic brings later
    std::vector<std::shared_ptr<const Site>> sites;  // after sharding, in file order (a topic's: as it brings them)
    std::size_t sites_total = 0;                     // before sharding
    Shard shard;
    std::string shard_text = "1/1";
    std::size_t max_concurrency = 1000;
    std::size_t batch_size = 500;
    Duration batch_delay{};
    std::string location;  // the records' `location`; empty: the agent's host name
    std::optional<SitesTopicConfig> sites_topic;
};

/// The plugin-level options of VIGIL_CHECK_PLUGIN_OPTIONS bound to the members every check
/// plugin's Config has.
template <class Config>
inline const Bound<Config> kPluginBound[] = {
    bind<&Config::shard_text>("shard"),
    bind<&Config::location>("location"),
    bind<&Config::max_concurrency>("max_concurrency", {.min = 1, .max = 100000}),
    bind<&Config::batch_size>("batch_size", {.min = 1, .max = 100000}),
    bind<&Config::batch_delay>("batch_delay"),
};

/// `Config` is a CheckConfig of `Kind`'s sites, perhaps with more members that `bound` fills.
template <class Config, class Site>
std::optional<Config> read_check_config(const ConfigNode& node, Diagnostics& diags,
                                        std::span<const Bound<Config>> bound, const CheckKind<Site>& kind) {
    auto before = diags.error_count();
    Config c;
    c.plugin = node;
    load_bound(bound, node, c, diags);
    if (auto problem = label_problem(c.location, 200); problem && !c.location.empty()) {
        diags.error(node.location_of("location"), node.path_of("location"), "the location's name " + *problem);
    }
    if (auto shard = Shard::parse(c.shard_text)) {
        c.shard = *shard;
    } else {
        diags.error(node.location_of("shard"), node.path_of("shard"),
                    fmt::format("\"{}\" is not I/N with 1 <= I <= N, e.g. 2/5", escape_controls(c.shard_text)));
    }
    if (node.has("sites_topic")) {
        refuse_lists_beside_topic(node, diags);
        c.sites_topic = read_sites_topic(node.child("sites_topic"), kind.kind, kind.restricted, diags);
        return diags.error_count() > before ? std::nullopt : std::optional<Config>(std::move(c));
    }
    auto read_site = kind.make_reader();
    // A sites_file may list none yet (a shipped pipeline whose list the operator fills in later):
    // that is said, not refused; with no list named at all there is nothing to check.
    bool may_be_empty = node.has("sites_file");
    auto entries = for_each_site(
        node, kind.site_table, diags,
        [&](const ConfigNode& entry) {
            auto site = read_site(node, entry, diags);
            if (!site) {
                return;
            }
            ++c.sites_total;
            if (c.shard.keeps(site->name)) {
                c.sites.push_back(std::make_shared<const Site>(std::move(*site)));
            }
        },
        "sites_topic", may_be_empty);
    if (entries == 0 && may_be_empty && diags.error_count() == before) {
        diags.warning(node.location_of("sites_file"), node.path_of("sites_file"),
                      fmt::format("\"{}\" lists no sites: this source checks nothing until a reload brings some",
                                  node.get_string("sites_file")));
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::checks
