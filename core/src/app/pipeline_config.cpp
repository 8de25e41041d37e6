// SPDX-License-Identifier: Apache-2.0
#include "app/pipeline_config.hpp"


#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "config/printer.hpp"

namespace vigil::app {

namespace {
const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "off", nullptr};
const char* const kFormats[] = {"text", "json", nullptr};

const OptionSpec kLogOptions[] = {
    {.key = "level", .type = OptionType::String, .default_value = "info", .one_of = kLevels, .description = "Minimum level logged: trace, debug, info, warn, error or off"},
    {.key = "format", .type = OptionType::String, .default_value = "text", .one_of = kFormats, .description = "text (one line per event) or json (one JSON object per line)"},
    {},
};
const OptionSpec kMetricsOptions[] = {
    {.key = "listen", .type = OptionType::String, .description = "host:port to serve Prometheus /metrics and /healthz on"},
    {},
};
const OptionSpec kRetryOptions[] = {
    {.key = "initial", .type = OptionType::Duration, .default_value = "100ms", .description = "First delay after a transient failure"},
    {.key = "max", .type = OptionType::Duration, .default_value = "30s", .description = "Cap on the delay between attempts (delays double up to it, with jitter)"},
    {.key = "max_attempts", .type = OptionType::Int, .default_value = "0", .description = "Attempts before the batch is dead-lettered; 0 retries forever"},
    {},
};
}  // namespace

const OptionSpec kPipelineOptions[] = {
    {.key = "pipeline", .type = OptionType::String, .required = true, .description = "This pipeline's name, used in logs and metrics"},
    {.key = "source", .type = OptionType::Map, .required = true, .description = "The source: `plugin:` names it, its options sit beside"},
    {.key = "sinks", .type = OptionType::List, .required = true, .description = "One or more sinks, each a map with `plugin:` and its options"},
    {.key = "max_in_flight", .type = OptionType::Int, .default_value = "8", .description = "Batches emitted but not yet acknowledged before the source blocks"},
    {.key = "drain_timeout", .type = OptionType::Duration, .default_value = "30s", .description = "On stop, how long in-flight batches may take to deliver"},
    {.key = "dead_letter_file", .type = OptionType::String, .description = "JSON-lines file for records a sink refuses for good (default: the log)"},
    {.key = "log", .type = OptionType::Map, .children = kLogOptions, .description = "Logging: level and format (the command line overrides)"},
    {.key = "metrics", .type = OptionType::Map, .children = kMetricsOptions, .description = "Prometheus endpoint"},
    {.key = "plugin_dirs", .type = OptionType::StringList, .description = "Extra directories to search for plugins, after --plugin-dir and VIGIL_PLUGIN_PATH"},
    {},
};

const OptionSpec kSourceReserved[] = {
    {.key = "plugin", .type = OptionType::String, .required = true, .description = "The plugin's name (its file is <name>.so)"},
    {.key = "alias", .type = OptionType::String, .description = "Instance name for logs and metrics (default <plugin>.0)"},
    {},
};

const OptionSpec kSinkReserved[] = {
    {.key = "plugin", .type = OptionType::String, .required = true, .description = "The plugin's name (its file is <name>.so)"},
    {.key = "alias", .type = OptionType::String, .description = "Instance name for logs and metrics (default <plugin>.<index>)"},
    {.key = "retry", .type = OptionType::Map, .children = kRetryOptions, .description = "Backoff for transient failures"},
    {},
};

std::unique_ptr<PipelineFile> load_pipeline_file(const std::filesystem::path& path,
                                                 Diagnostics& diags) {
    auto doc = config::load_file(path, config::snapshot_environment(), diags);
    if (!doc) {
        return nullptr;
    }
    auto file = std::make_unique<PipelineFile>();
    file->doc = doc;
    file->root = config::root_node(doc, kPipelineOptions);
    config::validate(file->root, diags);
    const ConfigNode& root = file->root;
    auto safe = [&](auto fn) {
        try {
            fn();
        } catch (const std::logic_error&) {
            // Already reported by validate().
        }
    };
    safe([&] { file->name = root.get_string("pipeline"); });
    safe([&] {
        auto n = root.get_int("max_in_flight");
        if (n < 1 || n > 100000) {
            diags.error(root.location_of("max_in_flight"), "max_in_flight",
                        fmt::format("must be between 1 and 100000, got {}", n));
        }
        file->max_in_flight = static_cast<std::size_t>(std::max<std::int64_t>(n, 1));
    });
    safe([&] { file->drain_timeout = root.get_duration("drain_timeout"); });
    safe([&] {
        if (root.has("dead_letter_file")) {
            file->dead_letter_file = root.resolve_path(root.get_string("dead_letter_file"));
        }
    });
    safe([&] {
        auto log = root.child("log");
        if (log.has("level")) {
            file->log_level = telemetry::parse_level(log.get_string("level"));
        }
        if (log.has("format")) {
            file->log_format = telemetry::parse_format(log.get_string("format"));
        }
    });
    safe([&] {
        auto metrics = root.child("metrics");
        if (metrics.has("listen")) {
            auto text = metrics.get_string("listen");
            file->metrics_listen = telemetry::parse_listen(text);
            if (!file->metrics_listen) {
                diags.error(metrics.location_of("listen"), "metrics.listen",
                            fmt::format("\"{}\" is not host:port with an IP address, e.g. 127.0.0.1:9464", text));
            }
        }
    });
    safe([&] {
        for (const auto& d : root.get_string_list("plugin_dirs")) {
            file->plugin_dirs.push_back(root.resolve_path(d));
        }
    });
    if (root.has("source")) {
        file->source = std::make_unique<Section>();
        file->source->node = config::raw_child(root, "source");
    }
    if (root.has("sinks")) {
        auto items = config::raw_items(root, "sinks");
        if (items.empty() && config::raw_child(root, "sinks").impl().node.IsSequence()) {
            diags.error(root.location_of("sinks"), "sinks", "at least one sink is required");
        }
        for (auto& item : items) {
            auto s = std::make_unique<Section>();
            s->node = item;
            file->sinks.push_back(std::move(s));
        }
    }
    return file;
}

std::string effective_yaml(const PipelineFile& file) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    config::emit_effective(out, config::rebind(file.root, kPipelineOptions));
    out << YAML::EndMap;
    // The core's emitter prints plugin sections raw; print them again bound to their tables so
    // defaults show and secrets are redacted. Replacing keys keeps the core's order.
    YAML::Node doc = YAML::Load(out.c_str());
    auto section_yaml = [](const Section& s) {
        YAML::Emitter e;
        e << YAML::BeginMap;
        config::emit_effective(e, s.node);
        e << YAML::EndMap;
        return YAML::Load(e.c_str());
    };
    if (file.source && file.source->plugin != nullptr) {
        doc["source"] = section_yaml(*file.source);
    }
    YAML::Node sinks(YAML::NodeType::Sequence);
    bool all_bound = true;
    for (const auto& s : file.sinks) {
        all_bound = all_bound && s->plugin != nullptr;
        if (s->plugin != nullptr) {
            sinks.push_back(section_yaml(*s));
        }
    }
    if (all_bound && !file.sinks.empty()) {
        doc["sinks"] = sinks;
    }
    YAML::Emitter final_out;
    final_out << doc;
    return std::string(final_out.c_str()) + "\n";
}

}  // namespace vigil::app
