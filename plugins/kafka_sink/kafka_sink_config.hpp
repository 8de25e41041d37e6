// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kafka_options.hpp"
#include "schema_registry.hpp"
#include "vigil/config.hpp"

namespace vigil::plugins::kafka_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

enum class KeyField { Name, Url, CheckId, Agent, None };

struct Config {
    kafka::Properties props;  // everything librdkafka is given, ours and the pass-through
    std::string brokers;
    std::string topic;
    KeyField key_field = KeyField::Name;
    std::optional<registry::Options> schema_registry;  // subject filled in (<topic>-value by default)
};

/// Reads a validated node into a Config, adding semantic errors to `diags`. `client_id` names
/// the instance to the brokers.
std::optional<Config> parse_config(const ConfigNode& node, const std::string& client_id, Diagnostics& diags);

}  // namespace vigil::plugins::kafka_sink
