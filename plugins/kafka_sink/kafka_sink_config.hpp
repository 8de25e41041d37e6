// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "kafka_options.hpp"
#include "schema_registry.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::kafka_sink {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

/// In the order of key_field's values (the binding maps the n-th value to the n-th enumerator).
enum class KeyField { Name, Url, CheckId, Agent, None };

struct Config {
    kafka::Properties props;  // everything librdkafka is given, ours and the pass-through
    std::string brokers;
    std::string topic;
    KeyField key_field = KeyField::Name;
    std::optional<registry::Options> schema_registry;  // subject filled in (<topic>-value by default)
};

/// Which option fills which member: the reader loads them all at once.
extern const std::span<const Bound<Config>> kBound;

/// Reads a validated node into a Config, adding semantic errors to `diags`. `client_id` names
/// the instance to the brokers.
std::optional<Config> parse_config(const ConfigNode& node, const std::string& client_id, Diagnostics& diags);

}  // namespace vigil::plugins::kafka_sink
