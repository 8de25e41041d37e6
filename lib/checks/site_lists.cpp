// SPDX-License-Identifier: Apache-2.0
#include "site_lists.hpp"

#include <cstdlib>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

namespace vigil::checks {

std::size_t for_each_site(const ConfigNode& node, const OptionSpec* site_table, Diagnostics& diags,
                          const std::function<void(const ConfigNode& entry)>& each, std::string_view other,
                          bool may_be_empty) {
    // Where each name was first seen: a million sites hold a million names here while the list
    // loads, so a place is its list's number and line:column, not a copy of the file's name.
    struct Place {
        std::uint32_t list;
        int line, column;
    };
    std::unordered_map<std::string, Place> seen;
    std::vector<std::string> lists;
    std::size_t entries = 0;
    auto process = [&](const ConfigNode& entry) {
        ++entries;
        auto name = entry.get_string("name");
        auto where = entry.location_of("name");
        if (lists.empty() || lists.back() != where.file) {
            lists.push_back(where.file);
        }
        auto [first, inserted] = seen.try_emplace(
            std::move(name), Place{static_cast<std::uint32_t>(lists.size() - 1), where.line, where.column});
        if (!inserted) {
            diags.error(where, entry.path_of("name"),
                        fmt::format("duplicate site name \"{}\" (first at {}:{}:{})", first->first,
                                    lists[first->second.list], first->second.line, first->second.column));
            return;
        }
        each(entry);
    };
    for (const auto& entry : node.items("sites")) {
        process(entry);
    }
    if (node.has("sites_file")) {
        auto file = node.resolve_path(node.get_string("sites_file"));
        for_each_in_list_file(file, site_table, node.location_of("sites_file"), diags, process);
    }
    if (node.has("sites_env")) {
        auto var = node.get_string("sites_env");
        const char* value = std::getenv(var.c_str());
        if (value == nullptr || *value == '\0') {
            // Unset is fine beside another list (a pipeline file that takes WEBSITES when the
            // deployment sets it); alone it leaves nothing to check.
            if (entries == 0 && !node.has("sites_file") && !may_be_empty) {
                diags.error(node.location_of("sites_env"), node.path_of("sites_env"),
                            fmt::format("environment variable {} is not set", var));
            }
        } else {
            for_each_in_list(value, "$" + var, node.base_dir(), site_table, diags, process);
        }
    }
    if (entries == 0 && !diags.has_errors() && !may_be_empty) {
        diags.error(node.location(), node.path(),
                    other.empty() ? std::string("no sites: set sites, sites_file or sites_env")
                                  : fmt::format("no sites: set sites, sites_file, sites_env or {}", other));
    }
    return entries;
}

}  // namespace vigil::checks
