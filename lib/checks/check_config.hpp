// SPDX-License-Identifier: Apache-2.0
// What every check plugin's parse_config does besides reading one site: the plugin-level options
// bound to its Config, `location` and `shard` checked, the site lists read entry by entry, each
// site kept if it falls in this agent's shard, and an empty sites_file said as a warning.
#pragma once

#include <memory>
#include <optional>
#include <span>

#include <fmt/core.h>

#include "site_lists.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"
#include "vigil/text.hpp"

namespace vigil::checks {

/// `Config` needs `sites` (shared pointers to its Site), `sites_total`, `shard`, `shard_text` and
/// `location`; `read_site(entry)` returns a site or nullopt (having said why in `diags`).
template <class Config, class ReadSite>
std::optional<Config> read_check_config(const ConfigNode& node, Diagnostics& diags,
                                        std::span<const Bound<Config>> bound, const OptionSpec* site_table,
                                        ReadSite read_site) {
    auto before = diags.error_count();
    Config c;
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
    // A sites_file may list none yet (a shipped pipeline whose list the operator fills in later):
    // that is said, not refused; with no list named at all there is nothing to check.
    bool may_be_empty = node.has("sites_file");
    auto entries = for_each_site(
        node, site_table, diags,
        [&](const ConfigNode& entry) {
            auto site = read_site(entry);
            if (!site) {
                return;
            }
            ++c.sites_total;
            if (c.shard.keeps(site->name)) {
                using Site = typename std::decay_t<decltype(*site)>;
                c.sites.push_back(std::make_shared<const Site>(std::move(*site)));
            }
        },
        {}, may_be_empty);
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
