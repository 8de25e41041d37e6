// SPDX-License-Identifier: Apache-2.0
// The plugin-level options every check plugin has, written once for each plugin's option table:
// where its sites come from, the shard, the location, how many checks at once and how results
// are batched.
#pragma once

#include "sites_topic_config.hpp"
#include "vigil/config.hpp"

namespace vigil::checks {

/// `sites`: the inline list, each map validated against `site_table`.
constexpr OptionSpec sites_option(const OptionSpec* site_table) {
    return {.key = "sites",
            .type = OptionType::List,
            .children = site_table,
            .description = "Sites listed inline: maps with name, url and any per-site option"};
}
inline constexpr OptionSpec kSitesFileOption{
    .key = "sites_file",
    .type = OptionType::String,
    .description =
        "File with a list of sites: YAML, or JSON (the original project's list of {name, url, regex}); "
        "relative to the pipeline file"};
inline constexpr OptionSpec kSitesEnvOption{
    .key = "sites_env",
    .type = OptionType::String,
    .description = "Name of an environment variable holding such a list (the original project's WEBSITES)"};
/// `sites_topic` for a kind whose sites have no option a message needs allowing but ca_file.
inline constexpr OptionSpec kSitesTopicOptions[] = {
    VIGIL_SITES_TOPIC_OPTIONS("ca_file, where the kind has it (tls_check); tcp, dns and icmp sites have none"),
    {},
};
inline constexpr OptionSpec kSitesTopicOption{
    .key = "sites_topic",
    .type = OptionType::Map,
    .children = kSitesTopicOptions,
    .description =
        "Take the sites from a compacted Kafka topic, shared by the producers of one consumer group "
        "(instead of sites, sites_file, sites_env and shard); it may hold sites of every kind"};
inline constexpr OptionSpec kShardOption{
    .key = "shard",
    .type = OptionType::String,
    .default_value = "1/1",
    .description = "I/N: keep only the sites whose stable name hash falls in shard I of N, so N agents split one list"};
inline constexpr OptionSpec kLocationOption{
    .key = "location",
    .type = OptionType::String,
    .default_value = "",
    .description = "Where the checks run from, the records' `location` (default: the host name)"};
inline constexpr OptionSpec kMaxConcurrencyOption{
    .key = "max_concurrency",
    .type = OptionType::Int,
    .default_value = "1000",
    .description = "Checks in flight at most (1 to 100000); due checks wait (their lag_ms shows it)"};
inline constexpr OptionSpec kBatchSizeOption{.key = "batch_size",
                                             .type = OptionType::Int,
                                             .default_value = "500",
                                             .description = "Results per batch handed to the sinks (1 to 100000)"};
inline constexpr OptionSpec kBatchDelayOption{.key = "batch_delay",
                                              .type = OptionType::Duration,
                                              .default_value = "50ms",
                                              .description = "A batch is handed on after this long even if not full"};

}  // namespace vigil::checks

// The plugin-level options of a check plugin whose sites take `site_table`, in the order every
// such plugin's table lists them (its per-site defaults follow).
#define VIGIL_CHECK_PLUGIN_OPTIONS(site_table)                                                                \
    vigil::checks::sites_option(site_table), vigil::checks::kSitesFileOption, vigil::checks::kSitesEnvOption, \
        vigil::checks::kSitesTopicOption, vigil::checks::kShardOption, vigil::checks::kLocationOption,        \
        vigil::checks::kMaxConcurrencyOption, vigil::checks::kBatchSizeOption, vigil::checks::kBatchDelayOption

// A check plugin writes its per-site options once, as a macro taking one of these: in the site
// table they have no default (a site inherits the plugin's value), in the plugin table they do.
#define VIGIL_SITE_OPTION_DEFAULT(x) x
#define VIGIL_SITE_OPTION_NO_DEFAULT(x) nullptr
