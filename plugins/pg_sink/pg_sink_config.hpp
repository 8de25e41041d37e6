// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pg_connection.hpp"
#include "pg_url.hpp"
#include "record_columns.hpp"
#include "rollups.hpp"
#include "site_state.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::pg_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

struct Config {
    Secret url;  // a libpq URL or keyword string; holds the password, so never printed
    std::string table = "metrics";
    std::vector<std::pair<Field, std::string>> columns;  // every field and its column name
    std::size_t max_rows = 5000;
    Duration max_delay = std::chrono::milliseconds(10);
    int connections = 2;
    std::string dead_letter_table = "metrics_rejected";
    pg::Migrations migrations;
    std::string application_name;
    StateConfig state;                  // `state:` present: keep site_state and site_events with the rows
    RollupConfig rollups;               // `rollups:` present: keep <table>_hourly and <table>_daily
    std::optional<Duration> retention;  // drop the table's day partitions older than this
};

/// Which option fills which member: parse_config loads them all at once (the state rules and
/// rollups from their own maps).
extern const std::span<const Bound<Config>> kBound;
extern const std::span<const Bound<StateRules>> kBoundStateRules;
extern const std::span<const Bound<RollupConfig>> kBoundRollupConfig;

/// Reads a validated node into a Config, adding semantic errors to `diags`. `url` falls back
/// to $DATABASE_URL.
std::optional<Config> parse_config(const ConfigNode& node, const std::string& instance, Diagnostics& diags);

using pg::quote_identifier;

}  // namespace vigil::plugins::pg_sink
