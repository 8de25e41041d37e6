// SPDX-License-Identifier: Apache-2.0
#include "loader/plugin_file.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>
#include <string_view>

#include <fmt/core.h>
#include <fmt/format.h>

namespace vigil::loader {
namespace {

// "gcc-12/c++202002L/cxx11abi=1/boost=107400/fmt=90100" as (name, value) pairs: the first piece
// is the compiler, "c++N" the language level, the rest name=value.
std::vector<std::pair<std::string_view, std::string_view>> components(std::string_view fp) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (std::size_t index = 0; !fp.empty(); ++index) {
        auto slash = fp.find('/');
        auto piece = fp.substr(0, slash);
        fp = slash == std::string_view::npos ? std::string_view{} : fp.substr(slash + 1);
        if (auto eq = piece.find('='); eq != std::string_view::npos) {
            out.emplace_back(piece.substr(0, eq), piece.substr(eq + 1));
        } else if (piece.rfind("c++", 0) == 0) {
            out.emplace_back("c++", piece.substr(3));
        } else if (index == 0) {
            out.emplace_back("compiler", piece);
        } else {
            out.emplace_back(piece, "");
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> fingerprint_mismatches(std::string_view plugin, std::string_view agent) {
    auto theirs = components(plugin);
    std::vector<std::string> differ;
    for (const auto& want : components(agent)) {
        auto it = std::find_if(theirs.begin(), theirs.end(), [&](const auto& c) { return c.first == want.first; });
        if (it == theirs.end() || it->second != want.second) {
            differ.emplace_back(want.first);
        }
    }
    return differ;
}

namespace {

// Owner and mode of the file behind `fd`, the one descriptor every later step reads: a file
// swapped after these checks is never the one loaded.
std::string check_permissions(int fd, const std::filesystem::path& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return fmt::format("{}: cannot load: {}", path.string(), std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return fmt::format("{}: not a regular file", path.string());
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fmt::format("refusing to load {}: mode {:04o} is group/world-writable", path.string(),
                           st.st_mode & 07777);
    }
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
        return fmt::format("refusing to load {}: owned by uid {}, neither root nor this agent's uid {}", path.string(),
                           st.st_uid, ::geteuid());
    }
    return {};
}

// Whoever may write a directory on the way to the plugin may put another file in its place, so
// the plugin directory and each parent must be root's or ours and writable by no one else. A
// sticky parent such as /tmp is allowed: there no one but its owner may rename an entry.
std::string check_directories(const std::filesystem::path& path) {
    std::error_code ec;
    auto dir = std::filesystem::absolute(path, ec).parent_path();
    bool first = true;
    for (;; dir = dir.parent_path()) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) {
            return fmt::format("{}: cannot load: {}: {}", path.string(), dir.string(), std::strerror(errno));
        }
        if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
            return fmt::format(
                "refusing to load {}: directory {} is owned by uid {}, neither root nor this agent's "
                "uid {}",
                path.string(), dir.string(), st.st_uid, ::geteuid());
        }
        bool sticky = (st.st_mode & S_ISVTX) != 0;
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (first || !sticky)) {
            return fmt::format("refusing to load {}: directory {} is group/world-writable (mode {:04o})", path.string(),
                               dir.string(), st.st_mode & 07777);
        }
        first = false;
        if (dir == dir.root_path() || dir.empty()) {
            return {};
        }
    }
}

// Whether the file exports `vigil_plugin_v1` from its `vigil` section, read from the ELF dynamic
// symbol table: no code of the file runs (a stray .so's static constructors never do), and a
// stripped plugin (a Debian package's) still has it, since the entry point is a dynamic symbol.
// Every offset is bounds-checked: the file may be anything.
enum class Elf { Plugin, NoSymbol, NotElf };

Elf read_entry_point(int fd) {
    std::string data;
    char buf[65536];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        data.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
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

std::string check_symbol(int fd, const std::filesystem::path& path) {
    switch (read_entry_point(fd)) {
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

LoadedPlugin::~LoadedPlugin() {
    library.unload();
    if (fd >= 0) {
        ::close(fd);
    }
}

std::variant<std::unique_ptr<LoadedPlugin>, std::string> load_plugin_file(const std::filesystem::path& path) {
    const std::string p = path.string();
    // Opened once; the checks, the ELF read and dlopen all use this descriptor.
    int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) {
            return fmt::format("refusing to load {}: a symbolic link (name the file itself)", p);
        }
        return fmt::format("{}: cannot load: {}", p, std::strerror(errno));
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->path = path;
    plugin->fd = fd;
    if (auto e = check_permissions(fd, path); !e.empty()) {
        return e;
    }
    if (auto e = check_directories(path); !e.empty()) {
        return e;
    }
    if (auto e = check_symbol(fd, path); !e.empty()) {
        return e;
    }
    try {
        // Through the descriptor, not the name: what was checked is what is loaded. Its
        // dependencies resolve by soname (the agent has the SDK loaded), not by $ORIGIN.
        plugin->library.load(boost::dll::fs::path(fmt::format("/proc/self/fd/{}", fd)),
                             boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
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
        return fmt::format("{}: built for plugin ABI {}, this agent provides ABI {}", p, h.abi_major, kSdkAbiMajor);
    }
    if (h.abi_minor > kSdkAbiMinor) {
        return fmt::format("{}: built for plugin ABI {}.{}, this agent provides ABI {}.{}; upgrade the agent", p,
                           h.abi_major, h.abi_minor, kSdkAbiMajor, kSdkAbiMinor);
    }
    if (h.descriptor_size < kDescriptorMinSize) {
        return fmt::format("{}: descriptor is {} bytes, ABI {}.0 needs at least {}", p, h.descriptor_size, kSdkAbiMajor,
                           kDescriptorMinSize);
    }
    std::string_view agent_fp = VIGIL_BUILD_FINGERPRINT;
    std::string_view plugin_fp = h.build_fingerprint ? h.build_fingerprint : "";
    if (auto differ = fingerprint_mismatches(plugin_fp, agent_fp); !differ.empty()) {
        return fmt::format("{}: built with {}, agent is {} ({} {}); rebuild against vigil-dev {}", p,
                           plugin_fp.empty() ? "(none)" : plugin_fp, agent_fp, fmt::join(differ, ", "),
                           differ.size() == 1 ? "differs" : "differ", VIGIL_VERSION);
    }
    if (d->name == nullptr || !valid_name(d->name)) {
        return fmt::format("{}: invalid plugin name \"{}\" (want [a-z][a-z0-9_]*)", p, d->name ? d->name : "");
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
