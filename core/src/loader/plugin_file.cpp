// SPDX-License-Identifier: Apache-2.0
#include "loader/plugin_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <boost/dll/library_info.hpp>
#include <fmt/core.h>

namespace vigil::loader {
namespace {

std::string check_permissions(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fmt::format("{}: cannot load: {}", path.string(), std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return fmt::format("{}: not a regular file", path.string());
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fmt::format("refusing to load {}: mode {:04o} is group/world-writable",
                           path.string(), st.st_mode & 07777);
    }
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        return fmt::format("refusing to load {}: owned by uid {}, neither root nor this agent's uid {}",
                           path.string(), st.st_uid, ::geteuid());
    }
    return {};
}

// Reads the ELF symbol table only: a stray .so's static constructors never run.
std::string check_symbol(const std::filesystem::path& path) {
    try {
        boost::dll::library_info info(boost::dll::fs::path(path.string()), false);
        for (const auto& s : info.symbols("vigil")) {
            if (s == "vigil_plugin_v1") {
                return {};
            }
        }
        return fmt::format("{}: not a Vigil plugin (no vigil_plugin_v1 symbol)", path.string());
    } catch (const std::exception&) {
        return fmt::format("{}: not a Vigil plugin (not an ELF shared object)", path.string());
    }
}

bool valid_name(std::string_view name) {
    if (name.empty() || name[0] < 'a' || name[0] > 'z') {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

std::string dl_message(const std::exception& e) {
    // Boost wraps dlerror(): "boost::dll::shared_library::load() failed (dlerror system message:
    // X): Bad file descriptor". Keep X, which is what the user can act on.
    std::string what = e.what();
    auto start = what.find("dlerror system message: ");
    if (start != std::string::npos) {
        start += std::strlen("dlerror system message: ");
        auto end = what.rfind(')');
        return what.substr(start, end == std::string::npos || end < start ? std::string::npos : end - start);
    }
    return what;
}

}  // namespace

std::variant<std::unique_ptr<LoadedPlugin>, std::string> load_plugin_file(
    const std::filesystem::path& path) {
    const std::string p = path.string();
    if (auto e = check_permissions(path); !e.empty()) {
        return e;
    }
    if (auto e = check_symbol(path); !e.empty()) {
        return e;
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->path = path;
    try {
        plugin->library.load(boost::dll::fs::path(p), boost::dll::load_mode::rtld_now |
                                                          boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        return fmt::format("{}: cannot load: {}; check its dependencies with ldd(1)", p, dl_message(e));
    }
    const PluginDescriptor* d = nullptr;
    try {
        auto& entry = plugin->library.get_alias<PluginEntry>("vigil_plugin_v1");
        d = entry();
    } catch (const std::exception& e) {
        return fmt::format("{}: not a Vigil plugin ({})", p, e.what());
    }
    if (d == nullptr) {
        return fmt::format("{}: not a Vigil plugin (entry point returned no descriptor)", p);
    }
    // The header is the only part whose layout is frozen: check it before any other field.
    const PluginHeader& h = d->header;
    if (h.magic != kPluginMagic) {
        return fmt::format("{}: not a Vigil plugin (bad magic 0x{:08x})", p, h.magic);
    }
    if (h.abi_major != kSdkAbiMajor) {
        return fmt::format("{}: built for plugin ABI {}, this agent provides ABI {}", p,
                           h.abi_major, kSdkAbiMajor);
    }
    if (h.abi_minor > kSdkAbiMinor) {
        return fmt::format("{}: built for plugin ABI {}.{}, this agent provides ABI {}.{}; upgrade the agent",
                           p, h.abi_major, h.abi_minor, kSdkAbiMajor, kSdkAbiMinor);
    }
    if (h.descriptor_size < kDescriptorV1Size) {
        return fmt::format("{}: descriptor is {} bytes, ABI {}.0 needs at least {}", p,
                           h.descriptor_size, kSdkAbiMajor, kDescriptorV1Size);
    }
    std::string_view agent_fp = VIGIL_BUILD_FINGERPRINT;
    if (h.build_fingerprint == nullptr || agent_fp != h.build_fingerprint) {
        return fmt::format("{}: built with {}, agent is {}; rebuild against vigil-dev {}", p,
                           h.build_fingerprint ? h.build_fingerprint : "(none)", agent_fp, VIGIL_VERSION);
    }
    if (d->name == nullptr || !valid_name(d->name)) {
        return fmt::format("{}: invalid plugin name \"{}\" (want [a-z][a-z0-9_]*)", p,
                           d->name ? d->name : "");
    }
    if (path.stem().string() != d->name) {
        return fmt::format("{}: declares name \"{}\" but the file is named \"{}\"", p, d->name,
                           path.filename().string());
    }
    bool source_ok = d->kind == PluginKind::Source && d->make_source != nullptr && d->make_sink == nullptr;
    bool sink_ok = d->kind == PluginKind::Sink && d->make_sink != nullptr && d->make_source == nullptr;
    if (!source_ok && !sink_ok) {
        return fmt::format("{}: descriptor kind does not match its factory", p);
    }
    if (d->version == nullptr) {
        return fmt::format("{}: descriptor has no version", p);
    }
    plugin->descriptor = d;
    return plugin;
}

}  // namespace vigil::loader
