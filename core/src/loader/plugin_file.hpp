// SPDX-License-Identifier: Apache-2.0
// Loading one plugin file, checking before trusting (STYLE.md, loader sequence).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "vigil/plugin.hpp"

namespace vigil::loader {

/// A loaded plugin. Owns the library: nothing the plugin created may outlive this object.
struct LoadedPlugin {
    std::filesystem::path path;
    boost::dll::shared_library library;
    const PluginDescriptor* descriptor = nullptr;
    // The descriptor it was loaded through (/proc/self/fd/N), open while it is loaded: the
    // dynamic linker knows a library by that name, so N must not name another plugin meanwhile.
    int fd = -1;

    LoadedPlugin() = default;
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;
    ~LoadedPlugin();

    std::string name() const { return descriptor->name; }
};

/// The components of `agent` (a VIGIL_BUILD_FINGERPRINT) that `plugin`'s fingerprint lacks or
/// holds with another value, by name: "compiler", "c++", "cxx11abi", "boost", "fmt". Components
/// only the plugin has are ignored, so a plugin built when the fingerprint named more libraries
/// still loads. Empty: compatible.
std::vector<std::string> fingerprint_mismatches(std::string_view plugin, std::string_view agent);

/// Loads `path` and checks, in order: permissions, the vigil_plugin_v1 symbol (read from the ELF
/// file, no code runs), dlopen with RTLD_NOW, the header (magic, ABI, size, fingerprint), then
/// the descriptor (name equals file stem, kind matches factory). Returns the plugin, or a one-line
/// error naming the path.
std::variant<std::unique_ptr<LoadedPlugin>, std::string> load_plugin_file(const std::filesystem::path& path);

}  // namespace vigil::loader
