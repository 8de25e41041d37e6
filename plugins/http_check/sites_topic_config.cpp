// SPDX-License-Identifier: Apache-2.0
#include "sites_topic_config.hpp"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/format.h>

namespace vigil::plugins::http_check {

namespace {
// What reading the site list depends on, so the pass-through map may not change it.
const kafka::OwnedProperty kOwned[] = {
    {"group.id", "set `group` instead"},
    {"enable.auto.commit", "nothing is committed: each assigned partition is read from its start"},
    {"auto.commit.enable", "nothing is committed: each assigned partition is read from its start"},
    {"enable.auto.offset.store", "nothing is committed: each assigned partition is read from its start"},
    {"auto.offset.reset", "each assigned partition is read from its start"},
    {"session.timeout.ms", "set `session_timeout` instead"},
    {nullptr, nullptr},
};
}  // namespace

const OptionSpec kSitesTopicOptions[] = {
    {.key = "topic",
     .type = OptionType::String,
     .required = true,
     .description = "Compacted topic of site definitions: key = site name, value = its options as JSON"},
    {.key = "group",
     .type = OptionType::String,
     .required = true,
     .description = "Consumer group of the producers that share the sites; one group per location"},
    VIGIL_KAFKA_CONNECTION_OPTIONS{
        .key = "session_timeout",
        .type = OptionType::Duration,
        .default_value = "10s",
        .description = "How long a silent producer keeps its sites before the group hands them to the others"},
    {.key = "allow",
     .type = OptionType::StringList,
     .description = "Options a message may set beyond the safe ones: ca_file, client_cert_file, client_key_file, "
                    "proxy, no_proxy, interface, source_address (default: none)"},
    {.key = "inherit_credentials",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "Topic sites use the plugin-level basic_auth, bearer_token, client certificate and headers"},
    {.key = "partitions",
     .type = OptionType::Int,
     .default_value = "12",
     .description = "Partitions of the topic when `agent sites` creates it (the most producers that share work)"},
    {.key = "replication_factor",
     .type = OptionType::Int,
     .default_value = "-1",
     .description = "Replicas of the topic when `agent sites` creates it; -1 is the brokers' default"},
    {},
};

namespace {
const Bound<SitesTopicConfig> kBoundOptions[] = {
    bind<&SitesTopicConfig::topic>("topic"),
    bind<&SitesTopicConfig::group>("group"),
    bind<&SitesTopicConfig::partitions>("partitions", {.min = 1, .max = 10000}),
    bind<&SitesTopicConfig::replication_factor>("replication_factor", {.min = -1, .max = 100}),
};
}  // namespace
const std::span<const Bound<SitesTopicConfig>> kBoundSitesTopicConfig{kBoundOptions};

std::optional<SitesTopicConfig> read_sites_topic(const ConfigNode& node, const std::string& client_id,
                                                 Diagnostics& diags) {
    std::size_t before = diags.error_count();
    SitesTopicConfig c;
    load_bound(kBoundSitesTopicConfig, node, c, diags);
    if (!kafka::valid_topic_name(c.topic)) {
        diags.error(node.location_of("topic"), node.path_of("topic"),
                    fmt::format("\"{}\" is not a valid Kafka topic name", c.topic));
    }
    if (c.group.empty()) {
        diags.error(node.location_of("group"), node.path_of("group"), "must not be empty");
    }
    auto session = kafka::read_session_timeout(node, diags);
    c.session_timeout = session;
    if (c.replication_factor == 0) {
        diags.error(node.location_of("replication_factor"), node.path_of("replication_factor"),
                    "must be -1 (the brokers' default) or between 1 and 100");
    }
    for (const auto& key : node.get_string_list("allow")) {
        if (std::find_if(std::begin(kTopicRestricted), std::end(kTopicRestricted),
                         [&](const char* k) { return key == k; }) == std::end(kTopicRestricted)) {
            diags.error(node.location_of("allow"), node.path_of("allow"),
                        fmt::format("\"{}\" is not one of the options a message needs allowing: {}", key,
                                    fmt::join(kTopicRestricted, ", ")));
        }
        c.policy.allow.insert(key);
    }
    c.policy.inherit_credentials = node.get_bool("inherit_credentials");
    kafka::read_connection(node, c.connection, diags);
    c.consumer = c.connection;
    // Nothing is committed: each assigned partition is read from its start ("earliest").
    kafka::add_group_member(c.consumer, client_id, c.group, "earliest", session);
    c.consumer.insert(c.consumer.end(), {{"enable.partition.eof", "true"},
                                         // Sticky: when a producer joins or leaves, only the partitions that must
                                         // move do, so the others' sites keep being checked through a rebalance.
                                         {"partition.assignment.strategy", "cooperative-sticky"}});
    kafka::read_passthrough(node, kOwned, c.consumer, diags);
    kafka::validate_client(RD_KAFKA_CONSUMER, c.consumer, node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::http_check
