// SPDX-License-Identifier: Apache-2.0
#include "loader/plugin_file.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>
#include <string_view>

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

// Whether the file exports `vigil_plugin_v1` from its `vigil` section, read from the ELF dynamic
// symbol table: no code of the file runs (a stray .so's static constructors never do), and a
// stripped plugin (a Debian package's) still has it, since the entry point is a dynamic symbol.
// Every offset is bounds-checked: the file may be anything.
enum class Elf { Plugin, NoSymbol, NotElf };

Elf read_entry_point(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto fits = [&](std::uint64_t off, std::uint64_t len) { return off <= data.size() && len <= data.size() - off; };
    if (!fits(0, sizeof(Elf64_Ehdr)) || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0 ||
        data[EI_CLASS] != ELFCLASS64 || data[EI_DATA] != ELFDATA2LSB) {
        return Elf::NotElf;
    }
    Elf64_Ehdr eh;
    std::memcpy(&eh, data.data(), sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || !fits(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)) ||
        eh.e_shstrndx >= eh.e_shnum) {
        return Elf::NotElf;
    }
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    std::memcpy(sh.data(), data.data() + eh.e_shoff, sh.size() * sizeof(Elf64_Shdr));
    auto name_at = [&](const Elf64_Shdr& strtab, std::uint32_t off) -> std::string_view {
        if (off >= strtab.sh_size || !fits(strtab.sh_offset, strtab.sh_size)) {
            return {};
        }
        const char* base = data.data() + strtab.sh_offset + off;
        return std::string_view(base, ::strnlen(base, strtab.sh_size - off));
    };
    std::size_t vigil_section = 0;
    for (std::size_t i = 0; i < sh.size(); ++i) {
        if (name_at(sh[eh.e_shstrndx], sh[i].sh_name) == "vigil") {
            vigil_section = i;
        }
    }
    for (const auto& dynsym : sh) {
        if (dynsym.sh_type != SHT_DYNSYM || dynsym.sh_entsize != sizeof(Elf64_Sym) || dynsym.sh_link >= sh.size() ||
            !fits(dynsym.sh_offset, dynsym.sh_size)) {
            continue;
        }
        for (std::uint64_t at = 0; at + sizeof(Elf64_Sym) <= dynsym.sh_size; at += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            std::memcpy(&sym, data.data() + dynsym.sh_offset + at, sizeof sym);
            if (sym.st_shndx != SHN_UNDEF && name_at(sh[dynsym.sh_link], sym.st_name) == "vigil_plugin_v1") {
                return vigil_section != 0 && sym.st_shndx == vigil_section ? Elf::Plugin : Elf::NoSymbol;
            }
        }
    }
    return Elf::NoSymbol;
}

std::string check_symbol(const std::filesystem::path& path) {
    switch (read_entry_point(path)) {
        case Elf::Plugin: return {};
        case Elf::NoSymbol: return fmt::format("{}: not a Vigil plugin (no vigil_plugin_v1 symbol)", path.string());
        case Elf::NotElf: break;
    }
    return fmt::format("{}: not a Vigil plugin (not an ELF shared object)", path.string());
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
