// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <vector>

#include "app/pipeline_config.hpp"
#include "pipeline/pipeline.hpp"

namespace vigil::app {

struct SourceInstance {
    std::string instance;
    std::unique_ptr<Source> source;
    const Section* section = nullptr;
};

struct Instances {
    std::vector<SourceInstance> sources;  // in the file's order
    std::vector<pipeline::SinkSlot> sinks;
};

/// Calls each plugin's factory with its validated section. Factories validate semantics and
/// connect to nothing. Exceptions become diagnostics ("plugin threw: ..."). On any error the
/// returned instances are incomplete and `diags` says why.
Instances instantiate(const PipelineFile& file, const std::string& agent_name, Diagnostics& diags);

/// Builds a plugin's context (instance name, pipeline, host name, logger).
PluginContext make_context(const PipelineFile& file, const Section& section, const std::string& agent);

/// This host's name, for the record's `agent` field.
std::string host_name();

}  // namespace vigil::app
