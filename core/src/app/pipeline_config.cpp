// SPDX-License-Identifier: Apache-2.0
#include "app/pipeline_config.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "config/printer.hpp"

namespace vigil::app {

namespace {
const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "off", nullptr};
const char* const kFormats[] = {"text", "json", nullptr};

const OptionSpec kLogOptions[] = {
    {.key = "level",
     .type = OptionType::String,
     .default_value = "info",
     .one_of = kLevels,
     .description = "Minimum level logged: trace, debug, info, warn, error or off"},
    {.key = "format",
     .type = OptionType::String,
     .default_value = "text",
     .one_of = kFormats,
     .description = "text (one line per event) or json (one JSON object per line)"},
    {},
};
const OptionSpec kMetricsOptions[] = {
    {.key = "listen",
     .type = OptionType::String,
     .description = "host:port to serve Prometheus /metrics and /healthz on"},
    {},
};
const char* const kBufferTypes[] = {"memory", "disk", nullptr};
const char* const kWhenFull[] = {"block", "drop_oldest", nullptr};
const OptionSpec kBufferOptions[] = {
    {.key = "type",
     .type = OptionType::String,
     .default_value = "memory",
     .one_of = kBufferTypes,
     .description =
         "memory: the source is acknowledged when every sink has its batch, and waits while max_in_flight batches do; "
         "disk: acknowledged once the batch is stored and fsynced, the sinks catch up from disk"},
    {.key = "path",
     .type = OptionType::String,
     .description = "Directory of the disk buffer (default $STATE_DIRECTORY/buffer under systemd, else "
                    "/var/lib/vigil/<pipeline>/buffer; empty means the default)"},
    {.key = "max_size",
     .type = OptionType::Size,
     .default_value = "1GiB",
     .description = "The disk budget: the buffer's file never grows past it; records fill up to 85% of it"},
    {.key = "when_full",
     .type = OptionType::String,
     .default_value = "block",
     .one_of = kWhenFull,
     .description = "block: the source waits for room; drop_oldest: the oldest records no sink is writing make room, "
                    "counted and logged"},
    {},
};
const OptionSpec kRetryOptions[] = {
    {.key = "initial",
     .type = OptionType::Duration,
     .default_value = "100ms",
     .description = "First delay after a transient failure"},
    {.key = "max",
     .type = OptionType::Duration,
     .default_value = "30s",
     .description = "Cap on the delay between attempts (delays double up to it, with jitter)"},
    {.key = "max_attempts",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "Attempts before the batch is dead-lettered; 0 retries forever"},
    {},
};
std::string state_directory() {
    // systemd's StateDirectory= (a colon-separated list when several are set: the first).
    const char* env = std::getenv("STATE_DIRECTORY");
    if (env == nullptr || *env == '\0') {
        return {};
    }
    std::string dirs(env);
    return dirs.substr(0, dirs.find(':'));
}

void load_dead_letters(const ConfigNode& root, PipelineFile& file, Diagnostics& diags) {
    auto& dl = file.dead_letter;
    if (root.has("dead_letter_file") && !root.get_string("dead_letter_file").empty()) {
        dl.file = root.resolve_path(root.get_string("dead_letter_file"));
    } else if (auto state = state_directory(); !state.empty()) {
        dl.file = std::filesystem::path(state) / "dead-letters.jsonl";
    }
    dl.max_size = root.get_size("dead_letter_max_size");
    auto keep = root.get_int("dead_letter_keep");
    if (keep < 0 || keep > 1000) {
        diags.error(root.location_of("dead_letter_keep"), "dead_letter_keep",
                    fmt::format("must be between 0 and 1000, got {}", keep));
    }
    dl.keep = static_cast<unsigned>(std::clamp<std::int64_t>(keep, 0, 1000));
}

// The nearest directory that exists at or above `p`: where creating it would start.
std::filesystem::path existing_ancestor(std::filesystem::path p) {
    std::error_code ec;
    while (!p.empty() && !std::filesystem::exists(p, ec)) {
        auto parent = p.parent_path();
        if (parent == p) {
            break;
        }
        p = parent;
    }
    return p;
}

void load_buffer(const ConfigNode& root, PipelineFile& file, Diagnostics& diags) {
    auto b = root.child("buffer");
    auto& out = file.buffer;
    out.type =
        b.get_string("type") == "disk" ? pipeline::BufferOptions::Type::Disk : pipeline::BufferOptions::Type::Memory;
    out.when_full = b.get_string("when_full") == "drop_oldest" ? pipeline::BufferOptions::WhenFull::DropOldest
                                                               : pipeline::BufferOptions::WhenFull::Block;
    out.max_size = b.get_size("max_size");
    if (out.type == pipeline::BufferOptions::Type::Memory) {
        return;  // path, max_size and when_full are unused (the shipped files set them for `disk`)
    }
    if (out.max_size < pipeline::kMinBufferSize) {
        diags.error(b.location_of("max_size"), b.path_of("max_size"),
                    fmt::format("must be at least {} (a few batches of large records), got {}",
                                format_size(pipeline::kMinBufferSize), format_size(out.max_size)));
    }
    std::string path = b.has("path") ? b.get_string("path") : std::string();
    if (!path.empty()) {
        out.path = b.resolve_path(path);
    } else if (auto state = state_directory(); !state.empty()) {
        out.path = std::filesystem::path(state) / "buffer";
    } else {
        out.path = std::filesystem::path("/var/lib/vigil") / (file.name.empty() ? "pipeline" : file.name) / "buffer";
    }
    auto where = b.has("path") ? b.location_of("path") : b.location();
    auto key = b.has("path") ? b.path_of("path") : std::string("buffer");
    std::error_code ec;
    if (std::filesystem::exists(out.path, ec) && !std::filesystem::is_directory(out.path, ec)) {
        diags.error(where, key, fmt::format("{} exists and is not a directory", out.path.string()));
        return;
    }
    auto base = existing_ancestor(out.path);
    if (!std::filesystem::is_directory(base, ec)) {
        diags.error(where, key, fmt::format("{} is not a directory", base.string()));
        return;
    }
    if (::access(base.c_str(), W_OK | X_OK) != 0) {
        diags.error(
            where, key,
            fmt::format("{}: {} is not writable by this user ({}){}", out.path.string(), base.string(),
                        std::strerror(errno), b.has("path") ? "" : "; set buffer.path, or run under the vigil@ unit"));
        return;
    }
    struct statvfs fs {};
    if (::statvfs(base.c_str(), &fs) == 0) {
        std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
        auto used = std::filesystem::file_size(out.path / "data.mdb", ec);
        std::uint64_t have = free + (ec ? 0 : used);
        if (out.max_size > have) {
            diags.warning(b.location_of("max_size"), b.path_of("max_size"),
                          fmt::format("{} is more than the {} the file system of {} has free: the disk fills "
                                      "before the buffer does",
                                      format_size(out.max_size), format_size(have), base.string()));
        }
    }
}

}  // namespace

const OptionSpec kPipelineOptions[] = {
    {.key = "pipeline",
     .type = OptionType::String,
     .required = true,
     .description = "This pipeline's name, used in logs and metrics"},
    {.key = "source",
     .type = OptionType::Map,
     .description = "The source: `plugin:` names it, its options sit beside (or `sources:` for several)"},
    {.key = "sources",
     .type = OptionType::List,
     .description = "Several sources feeding the same sinks and buffer, each a map like `source:`, each with its "
                    "own max_in_flight batches and acknowledgements"},
    {.key = "sinks",
     .type = OptionType::List,
     .required = true,
     .description = "One or more sinks, each a map with `plugin:` and its options"},
    {.key = "max_in_flight",
     .type = OptionType::Int,
     .default_value = "8",
     .description = "Batches a source emitted but that are not yet acknowledged before it blocks (per source)"},
    {.key = "drain_timeout",
     .type = OptionType::Duration,
     .default_value = "30s",
     .description = "On stop, how long in-flight batches may take to deliver"},
    {.key = "dead_letter_file",
     .type = OptionType::String,
     .description = "JSON-lines file for records a sink refuses for good (default $STATE_DIRECTORY/dead-letters.jsonl "
                    "under systemd, else the log)"},
    {.key = "dead_letter_max_size",
     .type = OptionType::Size,
     .default_value = "64MiB",
     .description = "The dead-letter file is rotated to <file>.1 past this size; 0 never rotates"},
    {.key = "dead_letter_keep",
     .type = OptionType::Int,
     .default_value = "3",
     .description = "Rotated dead-letter files kept (<file>.1 is the newest); 0 deletes instead"},
    {.key = "buffer",
     .type = OptionType::Map,
     .children = kBufferOptions,
     .description = "Where batches wait between the source and the sinks: memory or a durable disk buffer"},
    {.key = "log",
     .type = OptionType::Map,
     .children = kLogOptions,
     .description = "Logging: level and format (the command line overrides)"},
    {.key = "metrics", .type = OptionType::Map, .children = kMetricsOptions, .description = "Prometheus endpoint"},
    {.key = "plugin_dirs",
     .type = OptionType::StringList,
     .description = "Extra directories to search for plugins, after --plugin-dir and VIGIL_PLUGIN_PATH"},
    {},
};

const OptionSpec kSourceReserved[] = {
    {.key = "plugin",
     .type = OptionType::String,
     .required = true,
     .description = "The plugin's name (its file is <name>.so)"},
    {.key = "alias",
     .type = OptionType::String,
     .description = "Instance name for logs and metrics (default <plugin>.0)"},
    {},
};

const OptionSpec kSinkReserved[] = {
    {.key = "plugin",
     .type = OptionType::String,
     .required = true,
     .description = "The plugin's name (its file is <name>.so)"},
    {.key = "alias",
     .type = OptionType::String,
     .description = "Instance name for logs and metrics (default <plugin>.<index>)"},
    {.key = "retry",
     .type = OptionType::Map,
     .children = kRetryOptions,
     .description = "Backoff for transient failures"},
    {},
};

std::unique_ptr<PipelineFile> load_pipeline_file(const std::filesystem::path& path, Diagnostics& diags) {
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
    safe([&] { load_dead_letters(root, *file, diags); });
    safe([&] { load_buffer(root, *file, diags); });
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
    if (root.has("source") && root.has("sources")) {
        diags.error(root.location_of("sources"), "sources",
                    "the pipeline has `source:` already; list every source under `sources:` or keep the one");
    } else if (root.has("source")) {
        auto s = std::make_unique<Section>();
        s->node = config::raw_child(root, "source");
        file->sources.push_back(std::move(s));
    } else if (root.has("sources")) {
        file->source_list = true;
        auto items = config::raw_items(root, "sources");
        if (items.empty() && config::raw_child(root, "sources").impl().node.is_sequence()) {
            diags.error(root.location_of("sources"), "sources", "at least one source is required");
        }
        for (auto& item : items) {
            auto s = std::make_unique<Section>();
            s->node = item;
            file->sources.push_back(std::move(s));
        }
    } else {
        diags.error(root.location(), "source", "missing required option \"source\" (or \"sources\", a list)");
    }
    if (root.has("sinks")) {
        auto items = config::raw_items(root, "sinks");
        if (items.empty() && config::raw_child(root, "sinks").impl().node.is_sequence()) {
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
    // The buffer as it will run: with its default path made concrete.
    YAML::Node buffer;
    buffer["type"] = std::string(pipeline::to_string(file.buffer.type));
    if (file.buffer.type == pipeline::BufferOptions::Type::Disk) {
        buffer["path"] = file.buffer.path.string();
        buffer["max_size"] = format_size(file.buffer.max_size);
        buffer["when_full"] = std::string(pipeline::to_string(file.buffer.when_full));
    }
    doc["buffer"] = buffer;
    if (!file.dead_letter.file.empty()) {
        doc["dead_letter_file"] = file.dead_letter.file.string();
    }
    auto section_yaml = [](const Section& s) {
        YAML::Emitter e;
        e << YAML::BeginMap;
        config::emit_effective(e, s.node);
        e << YAML::EndMap;
        return YAML::Load(e.c_str());
    };
    if (!file.source_list && file.sources.size() == 1 && file.sources[0]->plugin != nullptr) {
        doc["source"] = section_yaml(*file.sources[0]);
    } else if (file.source_list) {
        YAML::Node sources(YAML::NodeType::Sequence);
        for (const auto& s : file.sources) {
            if (s->plugin != nullptr) {
                sources.push_back(section_yaml(*s));
            }
        }
        doc["sources"] = sources;
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
