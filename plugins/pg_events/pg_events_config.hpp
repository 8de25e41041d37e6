// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "pg_connection.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::pg_events {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

struct Config {
    Secret url;          // libpq URL; holds the password, so never printed
    std::string cursor;  // the row of site_events_cursors this reader moves; default: the pipeline's name
    std::size_t batch_size = 100;
    Duration poll_interval = std::chrono::seconds(5);  // a read without a NOTIFY, in case one is missed
    Duration refresh = std::chrono::minutes(1);        // current non-up states re-sent this often; 0: never
    bool from_beginning = false;                       // a new cursor starts at the first event, not after the last
    pg::Migrations migrations;
    std::string application_name;
};

/// Which option fills which member: parse_config loads them all at once.
extern const std::span<const Bound<Config>> kBound;

/// Reads a validated node into a Config, adding semantic errors to `diags`.
std::optional<Config> parse_config(const ConfigNode& node, const std::string& instance, const std::string& pipeline,
                                   Diagnostics& diags);

}  // namespace vigil::plugins::pg_events
