// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <memory>
#include <span>

#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::stdout_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

struct Config {
    std::filesystem::path path;  // empty: standard output
    bool fsync = false;
};

/// Which option fills which member: parse_config loads them all at once.
extern const std::span<const Bound<Config>> kBound;

/// Reads a validated node into a Config, adding semantic errors to `diags`.
std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

}  // namespace vigil::plugins::stdout_sink
