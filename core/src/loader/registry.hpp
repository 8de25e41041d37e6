// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "loader/plugin_file.hpp"

namespace vigil::loader {

/// Owns every loaded plugin library. Destroy it last: after the pipeline, the plugin instances
/// and anything else a plugin created (STYLE.md lifetime rule). Not thread-safe; used at start-up
/// and on reload from one thread.
class Registry {
  public:
    explicit Registry(std::vector<std::filesystem::path> search_path);

    /// The plugin `name`, loading it from the search path on first use. nullptr with `error`.
    const LoadedPlugin* get(const std::string& name, std::string& error);
    /// Loads a specific file; refuses a name already loaded from another path.
    const LoadedPlugin* load_path(const std::filesystem::path& path, std::string& error);

    const std::vector<std::filesystem::path>& search_path() const { return search_path_; }
    const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }

  private:
    std::vector<std::filesystem::path> search_path_;
    std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
};

}  // namespace vigil::loader
