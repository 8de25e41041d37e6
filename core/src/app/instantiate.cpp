// SPDX-License-Identifier: Apache-2.0
#include "app/instantiate.hpp"

#include <unistd.h>

#include <set>

#include <fmt/core.h>

namespace vigil::app {

namespace {

// The section's table: the core's reserved keys followed by the plugin's own.
void build_table(Section& s, const OptionSpec* reserved, const PluginDescriptor& d, const SourceLocation& where,
                 const std::string& path, Diagnostics& diags) {
    auto table = std::make_shared<std::vector<OptionSpec>>();
    for (const OptionSpec* o = reserved; o->key != nullptr; ++o) {
        table->push_back(*o);
    }
    for (const OptionSpec* o = d.options; o != nullptr && o->key != nullptr; ++o) {
        if (config::find_option(reserved, o->key) != nullptr) {
            diags.error(where, path,
                        fmt::format("plugin \"{}\" declares option \"{}\", which the core reserves", d.name, o->key));
            continue;
        }
        table->push_back(*o);
    }
    table->push_back(OptionSpec{});
    s.table = std::move(table);
}

void bind_section(Section& s, PluginKind want, const OptionSpec* reserved, const std::string& default_instance,
                  loader::Registry& registry, Diagnostics& diags) {
    const ConfigNode& raw = s.node;
    const auto& impl = raw.impl();
    if (!impl.present || !impl.node.is_map()) {
        diags.error(raw.location(), raw.path(), "expected a map with a `plugin:` key");
        return;
    }
    auto plugin_node = config::raw_child(raw, "plugin");
    if (!plugin_node.impl().present) {
        diags.error(raw.location(), raw.path(), "missing required option \"plugin\" (the plugin's name)");
        return;
    }
    std::string error;
    auto name = config::scalar_text(*impl.doc, plugin_node.impl().node, error);
    if (!name) {
        diags.error(plugin_node.location(), raw.path_of("plugin"), error);
        return;
    }
    const loader::LoadedPlugin* plugin = registry.get(*name, error);
    if (plugin == nullptr) {
        diags.error(plugin_node.location(), raw.path_of("plugin"), error);
        return;
    }
    const PluginDescriptor& d = *plugin->descriptor;
    if (d.kind != want) {
        diags.error(
            plugin_node.location(), raw.path_of("plugin"),
            fmt::format("\"{}\" is a {} plugin; a {} is needed here", *name, to_string(d.kind), to_string(want)));
        return;
    }
    build_table(s, reserved, d, raw.location(), raw.path(), diags);
    s.plugin = plugin;
    s.node = config::rebind(raw, s.table);
    std::size_t before = diags.error_count();
    config::validate(s.node, diags);
    s.had_errors = diags.error_count() > before;
    try {
        s.instance = s.node.has("alias") ? s.node.get_string("alias") : default_instance;
        if (want == PluginKind::Sink) {
            auto retry = s.node.child("retry");
            s.retry.initial = retry.get_duration("initial");
            s.retry.max = retry.get_duration("max");
            auto attempts = retry.get_int("max_attempts");
            if (attempts < 0) {
                diags.error(retry.location_of("max_attempts"), retry.path_of("max_attempts"),
                            "must be 0 (forever) or more");
            }
            s.retry.max_attempts = static_cast<unsigned>(std::max<std::int64_t>(0, attempts));
        }
    } catch (const std::logic_error&) {
        // A type error validate() already reported.
    }
}

}  // namespace

void bind_plugins(PipelineFile& file, loader::Registry& registry, Diagnostics& diags) {
    std::set<std::string> names;
    auto bind_all = [&](std::vector<std::unique_ptr<Section>>& sections, PluginKind kind, const OptionSpec* reserved) {
        for (std::size_t i = 0; i < sections.size(); ++i) {
            auto& s = *sections[i];
            bind_section(s, kind, reserved, "", registry, diags);
            if (s.plugin == nullptr) {
                continue;
            }
            if (s.instance.empty()) {
                s.instance = fmt::format("{}.{}", s.plugin->descriptor->name, i);
            }
            if (!names.insert(s.instance).second) {
                diags.error(s.node.location_of("alias"), s.node.path_of("alias"),
                            fmt::format("instance name \"{}\" is used twice; set a distinct alias", s.instance));
            }
        }
    };
    bind_all(file.sources, PluginKind::Source, kSourceReserved);
    bind_all(file.sinks, PluginKind::Sink, kSinkReserved);
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) != 0) {
        return "unknown";
    }
    return buf;
}

PluginContext make_context(const PipelineFile& file, const Section& section, const std::string& agent) {
    return PluginContext{section.instance, file.name, agent, Logger(section.instance)};
}

Instances instantiate(const PipelineFile& file, const std::string& agent, Diagnostics& diags) {
    Instances out;
    // Factories run even for sections with validation errors, so that their semantic errors
    // (a bad regex) show in the same run; an exception there is a knock-on of an error already
    // reported (a getter on a mistyped value) and stays quiet.
    auto guarded = [&](const Section& s, auto make) {
        try {
            return make();
        } catch (const std::exception& e) {
            if (!s.had_errors) {
                diags.error(s.node.location(), s.node.path(), fmt::format("plugin threw: {}", e.what()));
            }
        } catch (...) {
            diags.error(s.node.location(), s.node.path(), "plugin threw a non-standard exception");
        }
        return decltype(make())();
    };
    for (const auto& sp : file.sources) {
        if (sp->plugin == nullptr) {
            continue;
        }
        const auto& s = *sp;
        std::size_t before = diags.error_count();
        auto source =
            guarded(s, [&] { return s.plugin->descriptor->make_source(make_context(file, s, agent), s.node, diags); });
        if (!source && diags.error_count() == before && !s.had_errors) {
            diags.error(s.node.location(), s.node.path(), "plugin's factory failed without saying why");
        }
        if (source) {
            out.sources.push_back(SourceInstance{s.instance, std::move(source), &s});
        }
    }
    for (const auto& sp : file.sinks) {
        if (sp->plugin == nullptr) {
            continue;
        }
        const auto& s = *sp;
        std::size_t before = diags.error_count();
        auto sink =
            guarded(s, [&] { return s.plugin->descriptor->make_sink(make_context(file, s, agent), s.node, diags); });
        if (!sink && diags.error_count() == before && !s.had_errors) {
            diags.error(s.node.location(), s.node.path(), "plugin's factory failed without saying why");
        }
        if (sink) {
            out.sinks.push_back(pipeline::SinkSlot{s.instance, std::move(sink), s.retry});
        }
    }
    return out;
}

}  // namespace vigil::app
