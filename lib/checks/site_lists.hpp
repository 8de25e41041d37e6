// SPDX-License-Identifier: Apache-2.0
// The lists a check plugin takes its sites from: `sites` inline, `sites_file` and `sites_env`,
// read the same way by every check kind.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "vigil/config.hpp"

namespace vigil::checks {

/// Calls `each` with every site entry of a check plugin's section: the inline `sites`, then the
/// file `sites_file` names, then the JSON or YAML list in the variable `sites_env` names, each
/// entry validated against `site_table` and read one at a time (a long sites_file is never held
/// whole in memory). A name seen before is an error that says where it first was, and is not
/// passed on. Returns how many entries there were. With none and no other error, says "no sites:
/// set sites, sites_file or sites_env" (with `other` appended to the choices, e.g. "sites_topic"),
/// unless `may_be_empty`.
std::size_t for_each_site(const ConfigNode& node, const OptionSpec* site_table, Diagnostics& diags,
                          const std::function<void(const ConfigNode& entry)>& each, std::string_view other = {},
                          bool may_be_empty = false);

}  // namespace vigil::checks
