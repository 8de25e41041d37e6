// SPDX-License-Identifier: Apache-2.0
// `sites_topic:`: the site list kept in a compacted Kafka topic (key = site name, value = the
// site's options as JSON, a tombstone removes it), shared by the producers of one consumer group.
// One topic may carry sites of every kind: each check plugin takes those whose URL scheme is its
// own (http_check http:// and https://, tcp_check tcp://, ...) and passes over the others.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "kafka_options.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::checks {

/// What a sites-topic message may do: whoever can write to the topic is not the operator. A
/// message is data: never interpolated, naming no file (core), and by default neither setting the
/// plugin's restricted options (those naming the producer's files or routes) nor inheriting the
/// plugin-level credentials.
struct TopicPolicy {
    std::set<std::string, std::less<>> allow;  // of the plugin's restricted options, those allowed
    bool inherit_credentials = false;          // http_check: basic_auth, bearer_token, client_*_file, headers
};

struct SitesTopicConfig {
    std::string topic;
    std::string group;  // as written; the consumer group is `<group>.<kind>`
    std::string kind;   // the plugin's kind of check: http, tcp, tls, dns, icmp
    Duration session_timeout{};
    int partitions = 12;                    // when `agent sites` creates the topic
    int replication_factor = -1;            // -1: the brokers' default.replication.factor
    plugins::kafka::Properties connection;  // brokers and security only (for `agent sites`)
    plugins::kafka::Properties consumer;    // the producers' group member
    TopicPolicy policy;
};

/// Which option fills which member: the reader loads them all at once.
extern const std::span<const Bound<SitesTopicConfig>> kBoundSitesTopicConfig;

/// Reads the `sites_topic` map `node` of a `kind` check plugin (http, tcp, ...); `restricted`
/// are the options a message may set only when `allow` lists them. Errors located in `diags`.
std::optional<SitesTopicConfig> read_sites_topic(const ConfigNode& node, std::string_view kind,
                                                 std::span<const char* const> restricted, Diagnostics& diags);

/// With `sites_topic` in a check plugin's section `node`, the group shares the sites out: an
/// error at each other list (sites, sites_file, sites_env) and at `shard`.
void refuse_lists_beside_topic(const ConfigNode& node, Diagnostics& diags);

/// Whether a reload changed what the producer's group membership depends on (the topic, the
/// group, the consumer's properties, or having a topic at all): such a change waits for a restart.
bool topic_membership_changed(const std::optional<SitesTopicConfig>& before,
                              const std::optional<SitesTopicConfig>& after);

/// The kind of check a URL's scheme names: http (http://, https://), tcp, tls (tls://,
/// starttls://), dns, icmp; empty for any other. Scheme letters in either case.
std::string kind_of_url(std::string_view url);

/// Why `url` is no site of any kind: `"ftp://x/" names no kind of check (http://, ...)`, the url
/// escaped and cut at 200 characters.
std::string no_kind_reason(std::string_view url);

/// The kind of the site a sites-topic message defines, from its `url`: empty, and `why` says why,
/// when the message is not a JSON object with a string `url` of a known scheme (every plugin
/// refuses it: a message is JSON, as `agent sites` writes it).
std::string kind_of_message(std::string_view json, std::string* why = nullptr);

}  // namespace vigil::checks

// The options of `sites_topic` every check plugin has; a plugin adds its own after them (http_check:
// inherit_credentials) and ends the table. `restricted` is the text listing the options `allow` may
// name.
#define VIGIL_SITES_TOPIC_OPTIONS(restricted)                                                                          \
    {.key = "topic",                                                                                                   \
     .type = OptionType::String,                                                                                       \
     .required = true,                                                                                                 \
     .description =                                                                                                    \
         "Compacted topic of site definitions: key = site name, value = its options as JSON; "                         \
         "it may hold sites of every kind, this plugin takes those of its own"},                                       \
        {.key = "group",                                                                                               \
         .type = OptionType::String,                                                                                   \
         .required = true,                                                                                             \
         .description =                                                                                                \
             "Consumer group of the producers that share the sites, one per location; the group's "                    \
             "name in Kafka is <group>.<kind> (e.g. paris.tcp), so each kind is shared out apart"},                    \
        VIGIL_KAFKA_CONNECTION_OPTIONS{                                                                                \
            .key = "session_timeout",                                                                                  \
            .type = OptionType::Duration,                                                                              \
            .default_value = "10s",                                                                                    \
            .description = "How long a silent producer keeps its sites before the group hands them to the others"},    \
        {.key = "allow",                                                                                               \
         .type = OptionType::StringList,                                                                               \
         .description = "Options a message may set beyond the safe ones: " restricted " (default: none)"},             \
        {.key = "partitions",                                                                                          \
         .type = OptionType::Int,                                                                                      \
         .default_value = "12",                                                                                        \
         .description = "Partitions of the topic when `agent sites` creates it (the most producers that share work)"}, \
    {                                                                                                                  \
        .key = "replication_factor", .type = OptionType::Int, .default_value = "-1",                                   \
        .description = "Replicas of the topic when `agent sites` creates it; -1 is the brokers' default"               \
    }
