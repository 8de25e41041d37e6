// SPDX-License-Identifier: Apache-2.0
// The pipeline file: the keys the core owns, and the plugin sections it hands to plugins.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "loader/registry.hpp"
#include "pipeline/buffer/buffer_options.hpp"
#include "pipeline/dead_letter.hpp"
#include "pipeline/sink_runner.hpp"
#include "telemetry/logging.hpp"
#include "metrics_server.hpp"

namespace vigil::app {

/// The core's own keys. Everything under `source:`, each `sources[]` entry and each `sinks[]` entry besides
/// plugin/alias/retry belongs to that plugin's option table.
extern const OptionSpec kPipelineOptions[];
extern const OptionSpec kSourceReserved[];
extern const OptionSpec kSinkReserved[];

/// One plugin section after validation: which plugin, which instance name, the bound node.
struct Section {
    const loader::LoadedPlugin* plugin = nullptr;
    std::string instance;
    ConfigNode node;                                       // bound to reserved + plugin options
    std::shared_ptr<const std::vector<OptionSpec>> table;  // that combined table (nodes share it)
    pipeline::RetryPolicy retry;                           // sinks only
    bool had_errors = false;                               // validation found problems in this section
};

struct PipelineFile {
    std::shared_ptr<const detail::Document> doc;
    ConfigNode root;
    std::string name;
    std::size_t max_in_flight = 8;
    Duration drain_timeout{};
    pipeline::DeadLetterOptions dead_letter;
    pipeline::BufferOptions buffer;
    std::optional<LogLevel> log_level;
    std::optional<telemetry::LogFormat> log_format;
    std::vector<std::filesystem::path> plugin_dirs;
    std::optional<telemetry::ListenAddress> metrics_listen;
    std::vector<std::unique_ptr<Section>> sources;  // `source:` (one) or `sources:` (a list)
    std::vector<std::unique_ptr<Section>> sinks;
    bool source_list = false;  // written as `sources:`
};

/// Loads and validates the core's keys. Plugin sections are only checked for `plugin:`.
/// Returns nullptr when the file could not be parsed at all.
std::unique_ptr<PipelineFile> load_pipeline_file(const std::filesystem::path& path, Diagnostics& diags);

/// Loads each section's plugin through `registry` and validates the section against its table.
void bind_plugins(PipelineFile& file, loader::Registry& registry, Diagnostics& diags);

/// The effective configuration as YAML, secrets redacted (for --check-config).
std::string effective_yaml(const PipelineFile& file);

}  // namespace vigil::app
