// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kafka_options.hpp"
#include "schema_registry.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::kafka_source {

/// The option table: the single source of truth for validation, the README and --check-config.
extern const OptionSpec kOptions[];

struct Config {
    kafka::Properties consumer;  // the consumer's properties, ours and the pass-through
    kafka::Properties producer;  // the dead-letter producer's: connection, idempotence, acks=all
    std::string brokers;
    std::vector<std::string> topics;
    std::string group;
    std::size_t max_batch = 500;
    Duration max_batch_delay = std::chrono::milliseconds(50);
    std::size_t max_message_bytes = 1 << 20;
    std::uint64_t dead_letter_backlog = 64u << 20;     // bytes of unconfirmed dead letters before pausing
    std::optional<registry::Options> schema_registry;  // where framed messages' schemas come from
    bool validate = false;                             // check each record against its schema
    std::string dead_letter_topic;                     // empty: "<topic>.dlq" of each message's topic

    std::string dead_letter_topic_for(const std::string& topic) const {
        return dead_letter_topic.empty() ? topic + ".dlq" : dead_letter_topic;
    }
};

/// Which option fills which member: the reader loads them all at once.
extern const std::span<const Bound<Config>> kBound;

/// Reads a validated node into a Config, adding semantic errors to `diags`. `client_id` names
/// the instance to the brokers.
std::optional<Config> parse_config(const ConfigNode& node, const std::string& client_id, Diagnostics& diags);

}  // namespace vigil::plugins::kafka_source
