// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http_post.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::alertmanager_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

struct Config {
    std::vector<std::string> urls;  // Alertmanager base URLs; alerts go to <url>/api/v2/alerts
    std::vector<std::pair<std::string, std::string>> labels;       // added to every alert
    std::vector<std::pair<std::string, std::string>> annotations;  // added to every alert
    Duration ttl = std::chrono::minutes(5);  // a firing alert's endsAt is now + ttl, renewed by each refresh
    http::PostOptions http;                  // timeout, ca_file
    std::string generator_url;
};

/// Which option fills which member: parse_config loads them all at once.
extern const std::span<const Bound<Config>> kBound;

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

/// Whether `name` is a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool valid_label_name(const std::string& name);

}  // namespace vigil::plugins::alertmanager_sink
