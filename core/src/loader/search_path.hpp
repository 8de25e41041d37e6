// SPDX-License-Identifier: Apache-2.0
// Where plugins are looked for, in order: --plugin-dir (each, as given), VIGIL_PLUGIN_PATH
// (colon-separated), the pipeline's plugin_dirs, the build tree (<exe>/../plugins), then the
// installed directory (<exe>/../lib/vigil/plugins and the configured install prefix's).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigil::loader {

struct SearchPathInputs {
    std::vector<std::filesystem::path> cli_dirs;
    std::string env_value;  // VIGIL_PLUGIN_PATH, "" when unset
    std::vector<std::filesystem::path> config_dirs;
    std::filesystem::path executable;  // /proc/self/exe; empty to skip build/installed dirs
};

std::vector<std::filesystem::path> build_search_path(const SearchPathInputs& inputs);

/// The path of the running executable.
std::filesystem::path self_executable();

/// `<dir>/<name>.so` in the first directory that has it.
std::optional<std::filesystem::path> find_plugin(const std::vector<std::filesystem::path>& dirs,
                                                 const std::string& name);

/// "dir1:dir2:..." for messages.
std::string describe(const std::vector<std::filesystem::path>& dirs);

}  // namespace vigil::loader
