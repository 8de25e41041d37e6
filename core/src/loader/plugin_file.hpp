// SPDX-License-Identifier: Apache-2.0
// Loading one plugin file, checking before trusting (STYLE.md, loader sequence).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

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

/// Loads `path` and checks, in order: permissions, the vigil_plugin_v1 symbol (read from the ELF
/// file, no code runs), dlopen with RTLD_NOW, the header (magic, ABI, size, fingerprint), then
/// the descriptor (name equals file stem, kind matches factory). Returns the plugin, or a one-line
/// error naming the path.
std::variant<std::unique_ptr<LoadedPlugin>, std::string> load_plugin_file(
    const std::filesystem::path& path);

}  // namespace vigil::loader
