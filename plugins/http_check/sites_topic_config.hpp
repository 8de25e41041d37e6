// SPDX-License-Identifier: Apache-2.0
// `sites_topic:`: the site list kept in a compacted Kafka topic (key = site name, value = the
// site's options as JSON, a tombstone removes it), shared by the producers of one consumer group.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "kafka_options.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::http_check {

extern const OptionSpec kSitesTopicOptions[];

/// What a sites-topic message may do: whoever can write to the topic is not the operator. A
/// message is data: never interpolated, naming no file (core), and by default neither setting the
/// options below nor inheriting the plugin-level credentials.
struct TopicPolicy {
    std::set<std::string, std::less<>> allow;  // of kTopicRestricted, those the operator allows
    bool inherit_credentials = false;          // basic_auth, bearer_token, client_*_file, headers
};

/// Options a message may set only when `sites_topic.allow` lists them: they name the producer's
/// files or choose where its requests leave from and go through.
inline constexpr const char* kTopicRestricted[] = {"ca_file",  "client_cert_file", "client_key_file", "proxy",
                                                   "no_proxy", "interface",        "source_address"};

struct SitesTopicConfig {
    std::string topic;
    std::string group;
    Duration session_timeout{};
    int partitions = 12;           // when `agent sites` creates the topic
    int replication_factor = -1;   // -1: the brokers' default.replication.factor
    kafka::Properties connection;  // brokers and security only (for `agent sites`)
    kafka::Properties consumer;    // the producers' group member
    TopicPolicy policy;
};

/// Which option fills which member: the reader loads them all at once.
extern const std::span<const Bound<SitesTopicConfig>> kBoundSitesTopicConfig;

struct Site;
struct SiteCache;

/// One message's value read as a site, as data (no interpolation, no file named) under `policy`,
/// with `plugin` (the section) giving the defaults. `key` is the message's key, which must be the
/// site's name; `where` names the message (topic/partition/offset) in errors. nullptr and the
/// first error's line when it is not a site.
struct TopicSite {
    std::shared_ptr<const Site> site;
    std::string error;
};
TopicSite read_topic_site(const ConfigNode& plugin, const std::string& key, const std::string& json,
                          const std::string& where, const TopicPolicy& policy, SiteCache& cache);

/// Reads the `sites_topic` map of the plugin's section `node`; errors located in `diags`.
std::optional<SitesTopicConfig> read_sites_topic(const ConfigNode& node, const std::string& client_id,
                                                 Diagnostics& diags);

}  // namespace vigil::plugins::http_check
