// SPDX-License-Identifier: Apache-2.0
// How a shared object declares itself a Vigil plugin.
//
// A plugin exports one symbol, the Boost.DLL alias `vigil_plugin_v1` in section "vigil", naming
// a function that returns a PluginDescriptor. The loader finds that alias by reading the ELF
// file (no code of the file runs), loads it with RTLD_NOW | RTLD_LOCAL, then reads the frozen
// PluginHeader alone and checks magic, ABI major/minor, descriptor size and build fingerprint
// before it touches any other field. Write a plugin like this:
//
//     VIGIL_PLUGIN({
//         .name = "stdout_sink",
//         .kind = vigil::PluginKind::Sink,
//         .version = "1.0.0",
//         .description = "Writes each record as one JSON line to stdout or a file",
//         .stability = vigil::Stability::Stable,
//         .options = kOptions,
//         .make_sink = &make_sink,
//     })
//
// and build it with vigil_add_plugin() (hidden visibility, no "lib" prefix, file = <name>.so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <type_traits>
#include <string>
#include <vector>

#include <boost/dll/alias.hpp>

#include "vigil/config.hpp"
#include "vigil/log.hpp"
#include "vigil/sink.hpp"
#include "vigil/source.hpp"
#include "vigil/version.hpp"

namespace vigil {

enum class PluginKind : std::uint32_t { Source = 1, Sink = 2 };
/// Envoy's extension stability levels: shown by --list-plugins.
enum class Stability : std::uint32_t { Stable = 0, Alpha = 1, Wip = 2 };

VIGIL_API const char* to_string(PluginKind kind) noexcept;
VIGIL_API const char* to_string(Stability stability) noexcept;

/// What the agent tells a plugin instance about its surroundings. Valid during the factory
/// call; copy what you keep.
struct PluginContext {
    std::string instance;  // the logger and metrics name: "<plugin>.<index>", or the alias
    std::string pipeline;  // the pipeline's name
    std::string agent;     // this host's name, for the record's `agent` field
    Logger logger;         // the instance's logger
};

/// Factories validate their options completely and connect to nothing (that is healthcheck()'s
/// job). On any error they record at least one diagnostic and return nullptr. They may throw;
/// the loader turns an exception into the diagnostic "plugin threw: <what>".
using SourceFactory = std::unique_ptr<Source> (*)(const PluginContext&, const ConfigNode&, Diagnostics&);
using SinkFactory = std::unique_ptr<Sink> (*)(const PluginContext&, const ConfigNode&, Diagnostics&);

/// The factory every plugin has, written once (after Envoy's FactoryBase): `Parse` reads the
/// validated section into the plugin's Config, or returns nullopt once it has put its errors in
/// `diags`; `Make` builds the plugin from that Config and the context. A plugin.cpp says only how
/// to do each, and names the result in its descriptor:
///
///     .make_sink = &vigil::typed_factory<vigil::Sink, parse, make>,
///
/// Parse takes (node, diags) or (context, node, diags); Make takes (context, config) or
/// (context, config, diags), for a plugin whose construction itself can fail with a reason.
template <class Base, auto Parse, auto Make>
std::unique_ptr<Base> typed_factory(const PluginContext& ctx, const ConfigNode& node, Diagnostics& diags) {
    auto config = [&] {
        if constexpr (std::is_invocable_v<decltype(Parse), const ConfigNode&, Diagnostics&>) {
            return Parse(node, diags);
        } else {
            return Parse(ctx, node, diags);
        }
    }();
    if (!config) {
        return nullptr;
    }
    if constexpr (std::is_invocable_v<decltype(Make), const PluginContext&, decltype(std::move(*config)),
                                      Diagnostics&>) {
        return Make(ctx, std::move(*config), diags);
    } else {
        return Make(ctx, std::move(*config));
    }
}

struct CommandPeer;

/// What a plugin command is given. Valid during the call.
struct CommandContext {
    std::vector<std::string> args;  // the words after the command's name
    std::string agent;              // this host's name
    std::string instance;           // the section's instance name
    Logger logger;                  // the instance's logger (stderr, the pipeline's log settings)
    std::ostream* out = nullptr;    // where the command's results go (standard output)
    std::ostream* err = nullptr;    // where its usage and one-line errors go (standard error)
    // Since ABI 7.1. The pipeline's other sections whose plugin offers this command, sources
    // first: a command may hand them what is theirs (agent sites: the sites of their kind).
    std::vector<CommandPeer> peers;
    // Since ABI 7.1. Called by a peer's command, with the part of the work that is this plugin's;
    // such a call hands nothing on.
    bool delegated = false;
};

/// `agent <name> ARGS... --pipeline FILE`: a command a plugin offers against a pipeline file that
/// uses it, run with the plugin's validated section (no factory runs, no pipeline starts). It
/// returns the agent's exit code: 0, 1 (runtime), 64 (usage) or 78 (configuration). Errors about
/// the section or a file it reads go to `diags` (located); the agent prints them.
using CommandFn = int (*)(const CommandContext&, const ConfigNode& section, Diagnostics& diags);

/// Another section offering the same command.
struct CommandPeer {
    std::string plugin;    // its plugin's name, e.g. tcp_check
    std::string instance;  // its instance name
    const ConfigNode* section = nullptr;
    CommandFn run = nullptr;
};

struct PluginCommand {
    const char* name = nullptr;  // [a-z][a-z0-9_-]*; nullptr ends the table
    const char* usage = "";      // the arguments, one line: "import FILE | add NAME URL ... | list"
    const char* description = "";
    CommandFn run = nullptr;
};

/// Frozen for every ABI version: plain C layout, read first and alone.
struct PluginHeader {
    std::uint32_t magic;            // kPluginMagic
    std::uint16_t abi_major;        // must equal the agent's kSdkAbiMajor
    std::uint16_t abi_minor;        // must be <= the agent's kSdkAbiMinor
    std::uint32_t descriptor_size;  // sizeof(PluginDescriptor) as the plugin was compiled
    const char* build_fingerprint;  // VIGIL_BUILD_FINGERPRINT, compared as a string
};

/// Fields after the header may grow at the end only; the loader reads a field only if
/// descriptor_size covers it.
struct PluginDescriptor {
    PluginHeader header{};       // filled by VIGIL_PLUGIN; never written by hand
    const char* name = nullptr;  // [a-z][a-z0-9_]*, equal to the file's stem
    PluginKind kind = PluginKind::Source;
    const char* version = nullptr;  // the plugin's own semantic version
    const char* description = "";   // one line, shown by --list-plugins
    Stability stability = Stability::Alpha;
    const OptionSpec* options = nullptr;  // nullptr-key-terminated option table
    SourceFactory make_source = nullptr;  // exactly one of these, matching `kind`
    SinkFactory make_sink = nullptr;
    const PluginCommand* commands = nullptr;  // command-line commands, ended by an empty entry; or none
};

/// The size the loader requires at least: every field the first descriptor of this ABI major had.
inline constexpr std::uint32_t kDescriptorMinSize = offsetof(PluginDescriptor, commands) + sizeof(void*);

/// The plugin's commands (none: nullptr).
inline const PluginCommand* commands_of(const PluginDescriptor& d) { return d.commands; }

/// The type of the exported entry point.
using PluginEntry = const PluginDescriptor*();

namespace detail {
/// Stamps the header so that no plugin ever types an ABI number (nginx NGX_MODULE_V1).
inline PluginDescriptor stamp(PluginDescriptor d) {
    d.header = PluginHeader{kPluginMagic, kSdkAbiMajor, kSdkAbiMinor,
                            static_cast<std::uint32_t>(sizeof(PluginDescriptor)), VIGIL_BUILD_FINGERPRINT};
    return d;
}
}  // namespace detail

}  // namespace vigil

/// Declares this shared object's descriptor. Use once per plugin, at namespace scope, with a
/// braced PluginDescriptor initializer (designated initializers, header omitted).
#define VIGIL_PLUGIN(...)                                                  \
    namespace {                                                            \
    const ::vigil::PluginDescriptor* vigil_plugin_entry_() {               \
        static const ::vigil::PluginDescriptor descriptor =                \
            ::vigil::detail::stamp(::vigil::PluginDescriptor __VA_ARGS__); \
        return &descriptor;                                                \
    }                                                                      \
    }                                                                      \
    BOOST_DLL_ALIAS_SECTIONED(vigil_plugin_entry_, vigil_plugin_v1, vigil)
