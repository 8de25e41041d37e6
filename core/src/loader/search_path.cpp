// SPDX-License-Identifier: Apache-2.0
#include "loader/search_path.hpp"

#include <algorithm>
#include <system_error>

namespace vigil::loader {

std::vector<std::filesystem::path> build_search_path(const SearchPathInputs& in) {
    std::vector<std::filesystem::path> dirs;
    auto add = [&](const std::filesystem::path& p) {
        if (!p.empty() && std::find(dirs.begin(), dirs.end(), p) == dirs.end()) {
            dirs.push_back(p);
        }
    };
    for (const auto& d : in.cli_dirs) {
        add(d);
    }
    std::size_t start = 0;
    while (start <= in.env_value.size() && !in.env_value.empty()) {
        auto end = in.env_value.find(':', start);
        add(in.env_value.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    for (const auto& d : in.config_dirs) {
        add(d);
    }
    if (!in.executable.empty()) {
        auto bin = in.executable.parent_path();
        std::error_code ec;
        // Build tree: build/bin/agent beside build/plugins/*.so.
        if (std::filesystem::is_directory(bin.parent_path() / "plugins", ec)) {
            add(bin.parent_path() / "plugins");
        }
        add((bin.parent_path() / "lib" / "vigil" / "plugins").lexically_normal());
    }
    add(VIGIL_INSTALL_PLUGIN_DIR);
    return dirs;
}

std::filesystem::path self_executable() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : p;
}

std::optional<std::filesystem::path> find_plugin(const std::vector<std::filesystem::path>& dirs,
                                                 const std::string& name) {
    for (const auto& d : dirs) {
        auto candidate = d / (name + ".so");
        std::error_code ec;
        if (std::filesystem::exists(candidate, ec)) {
            return candidate;
        }
    }
    return std::nullopt;
}

std::string describe(const std::vector<std::filesystem::path>& dirs) {
    std::string out;
    for (const auto& d : dirs) {
        if (!out.empty()) {
            out += ':';
        }
        out += d.string();
    }
    return out;
}

}  // namespace vigil::loader
