// SPDX-License-Identifier: Apache-2.0
#include "kafka_source_config.hpp"

#include <fmt/core.h>

namespace vigil::plugins::kafka_source {

namespace {
const char* const kStarts[] = {"earliest", "latest", nullptr};

// What the commit promise depends on, so the pass-through map may not change it.
const kafka::OwnedProperty kOwned[] = {
    {"enable.auto.commit", "offsets are committed only after the sinks acknowledge, never automatically"},
    {"enable.auto.offset.store", "offsets are stored only after the sinks acknowledge, never automatically"},
    {"auto.commit.enable", "offsets are committed only after the sinks acknowledge, never automatically"},
    {"group.id", "set `group` instead"},
    {"auto.offset.reset", "set `start` instead"},
    {"enable.partition.eof", "Vigil sets it for --once"},
    {"session.timeout.ms", "set `session_timeout` instead"},
    {nullptr, nullptr},
};

}  // namespace

const OptionSpec kOptions[] = {
    VIGIL_KAFKA_CONNECTION_OPTIONS{.key = "topics",
                                   .type = OptionType::StringList,
                                   .required = true,
                                   .description = "Topics to read (the original project's KAFKA_TOPIC)"},
    {.key = "group",
     .type = OptionType::String,
     .required = true,
     .description =
         "Consumer group: consumers of one group share the partitions (the original project's KAFKA_CONSUMER_GROUP)"},
    {.key = "start",
     .type = OptionType::String,
     .default_value = "earliest",
     .one_of = kStarts,
     .description = "Where a group with no committed offset starts: earliest or latest"},
    {.key = "max_batch",
     .type = OptionType::Int,
     .default_value = "500",
     .description = "Records per batch handed to the sinks at most"},
    {.key = "max_batch_delay",
     .type = OptionType::Duration,
     .default_value = "50ms",
     .description = "A batch is handed on after this long even if not full"},
    {.key = "max_message_bytes",
     .type = OptionType::Size,
     .default_value = "1MiB",
     .description = "Messages larger than this are not decoded but dead-lettered"},
    {.key = "dead_letter_topic",
     .type = OptionType::String,
     .default_value = "",
     .description = "Topic for messages that are not check results; empty means <topic>.dlq"},
    {.key = "dead_letter_backlog",
     .type = OptionType::Size,
     .default_value = "64MiB",
     .description =
         "Dead letters waiting for Kafka's confirmation at most (in bytes); past it the partitions pause until "
         "the dead-letter topic takes them, so memory stays bounded"},
    {.key = "session_timeout",
     .type = OptionType::Duration,
     .default_value = "10s",
     .description =
         "How soon a consumer that died loses its partitions to the others, and the longest a consumer waits "
         "for its own old membership to expire after a broker outage (librdkafka session.timeout.ms)"},
    {.key = "schema_registry",
     .type = OptionType::Map,
     .children = registry::kSourceOptions,
     .description = "Confluent-compatible registry the schemas of framed messages are fetched from (by id, cached)"},
    {.key = "validate",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "Check each record against its schema (a framed message's, else the record's own); a record "
                    "that fails is dead-lettered with the reason and the JSON pointer"},
    {},
};

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::brokers>("brokers"),
    bind<&Config::topics>("topics"),
    bind<&Config::group>("group"),
    bind<&Config::max_batch>("max_batch", {.min = 1, .max = 100000}),
    bind<&Config::max_batch_delay>("max_batch_delay"),
    bind<&Config::dead_letter_backlog>("dead_letter_backlog", {.min = 1 << 20}),
    bind<&Config::max_message_bytes>("max_message_bytes", {.min = 64, .why = "no check result is smaller"}),
    bind<&Config::dead_letter_topic>("dead_letter_topic"),
    bind<&Config::validate>("validate"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, const std::string& client_id, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    load_bound(kBound, node, c, diags);
    if (c.topics.empty()) {
        diags.error(node.location_of("topics"), node.path_of("topics"), "name at least one topic");
    }
    for (const auto& t : c.topics) {
        if (!kafka::valid_topic_name(t)) {
            diags.error(node.location_of("topics"), node.path_of("topics"),
                        fmt::format("\"{}\" is not a valid Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)", t));
        }
    }
    if (c.group.empty()) {
        diags.error(node.location_of("group"), node.path_of("group"), "must not be empty");
    }
    auto session = kafka::read_session_timeout(node, diags);
    if (!c.dead_letter_topic.empty() && !kafka::valid_topic_name(c.dead_letter_topic)) {
        diags.error(node.location_of("dead_letter_topic"), node.path_of("dead_letter_topic"),
                    fmt::format("\"{}\" is not a valid Kafka topic name", c.dead_letter_topic));
    }
    for (const auto& t : c.topics) {
        if (c.dead_letter_topic_for(t) == t ||
            std::find(c.topics.begin(), c.topics.end(), c.dead_letter_topic_for(t)) != c.topics.end()) {
            diags.error(node.location_of("dead_letter_topic"), node.path_of("dead_letter_topic"),
                        fmt::format("\"{}\" is also read by this source: a bad message would come back forever",
                                    c.dead_letter_topic_for(t)));
            break;
        }
    }

    kafka::Properties connection;
    kafka::read_connection(node, connection, diags);
    c.producer = connection;
    c.producer.insert(
        c.producer.end(),
        {{"client.id", client_id + "-dlq"}, {"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}});
    c.consumer = connection;
    kafka::add_group_member(c.consumer, client_id, c.group, node.get_string("start"), session);
    if (node.has("schema_registry")) {
        c.schema_registry = registry::read_options(node.child("schema_registry"), diags);
    }
    if (c.validate && !node.has("schema_registry")) {
        diags.error(node.location_of("validate"), node.path_of("validate"),
                    "validate checks framed messages against the schema their id names: set schema_registry");
    }
    kafka::read_passthrough(node, kOwned, c.consumer, diags);
    kafka::validate_client(RD_KAFKA_CONSUMER, c.consumer, node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::kafka_source
