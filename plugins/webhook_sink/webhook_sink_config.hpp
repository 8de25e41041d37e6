// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http_post.hpp"
#include "vigil/config.hpp"

namespace vigil::plugins::webhook_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

enum class Format { Json, Slack };

struct Config {
    Secret url;     // may carry a token (Slack's incoming webhooks do): never printed in full
    Secret secret;  // HMAC-SHA256 key for the signature header; empty: unsigned
    Format format = Format::Json;
    std::vector<std::pair<std::string, std::string>> headers;
    http::PostOptions http;  // timeout, ca_file
};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

}  // namespace vigil::plugins::webhook_sink
