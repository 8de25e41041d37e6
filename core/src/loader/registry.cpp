// SPDX-License-Identifier: Apache-2.0
#include "loader/registry.hpp"

#include <fmt/core.h>

#include "loader/search_path.hpp"

namespace vigil::loader {

Registry::Registry(std::vector<std::filesystem::path> search_path) : search_path_(std::move(search_path)) {}

const LoadedPlugin* Registry::get(const std::string& name, std::string& error) {
    for (const auto& p : plugins_) {
        if (p->name() == name) {
            return p.get();
        }
    }
    auto path = find_plugin(search_path_, name);
    if (!path) {
        error = fmt::format("plugin \"{}\" not found (no {}.so in {})", name, name, describe(search_path_));
        return nullptr;
    }
    return load_path(*path, error);
}

const LoadedPlugin* Registry::load_path(const std::filesystem::path& path, std::string& error) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    for (const auto& p : plugins_) {
        if (std::filesystem::weakly_canonical(p->path, ec) == canonical) {
            return p.get();
        }
    }
    // Compare the stem before loading so that a second copy of a plugin never runs any code.
    for (const auto& p : plugins_) {
        if (p->name() == path.stem().string()) {
            error = fmt::format("{}: plugin \"{}\" already loaded from {}", path.string(), p->name(), p->path.string());
            return nullptr;
        }
    }
    auto result = load_plugin_file(path);
    if (auto* e = std::get_if<std::string>(&result)) {
        error = *e;
        return nullptr;
    }
    plugins_.push_back(std::move(std::get<std::unique_ptr<LoadedPlugin>>(result)));
    return plugins_.back().get();
}

}  // namespace vigil::loader
