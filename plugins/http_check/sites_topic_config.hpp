// SPDX-License-Identifier: Apache-2.0
// `sites_topic:`: the site list kept in a compacted Kafka topic (key = site name, value = the
// site's options as JSON, a tombstone removes it), shared by the producers of one consumer group.
#pragma once

#include <optional>
#include <string>

#include "kafka_options.hpp"
#include "vigil/config.hpp"

namespace vigil::plugins::http_check {

extern const OptionSpec kSitesTopicOptions[];

struct SitesTopicConfig {
    std::string topic;
    std::string group;
    Duration session_timeout{};
    int partitions = 12;           // when `agent sites` creates the topic
    int replication_factor = -1;   // -1: the brokers' default.replication.factor
    kafka::Properties connection;  // brokers and security only (for `agent sites`)
    kafka::Properties consumer;    // the producers' group member
};

/// Reads the `sites_topic` map of the plugin's section `node`; errors located in `diags`.
std::optional<SitesTopicConfig> read_sites_topic(const ConfigNode& node, const std::string& client_id,
                                                 Diagnostics& diags);

}  // namespace vigil::plugins::http_check
