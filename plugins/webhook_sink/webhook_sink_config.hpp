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

namespace vigil::plugins::webhook_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

/// In the order of format's values (the binding maps the n-th value to the n-th enumerator).
enum class Format { Json, Slack };

struct Config {
    Secret url;     // may carry a token (Slack's incoming webhooks do): never printed in full
    Secret secret;  // HMAC-SHA256 key for the signature header; empty: unsigned
    Format format = Format::Json;
    std::vector<std::pair<std::string, std::string>> headers;
    http::PostOptions http;  // timeout, ca_file
};

/// Which option fills which member: parse_config loads them all at once.
extern const std::span<const Bound<Config>> kBound;

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

}  // namespace vigil::plugins::webhook_sink
