// SPDX-License-Identifier: Apache-2.0
#include "kafka_sink_config.hpp"

#include <fmt/core.h>

namespace vigil::plugins::kafka_sink {

namespace {
const char* const kKeyFields[] = {"name", "url", "check_id", "agent", "none", nullptr};
const char* const kCodecs[] = {"none", "gzip", "snappy", "lz4", "zstd", nullptr};

// What the delivery promise depends on, so the pass-through map may not change it.
const kafka::OwnedProperty kOwned[] = {
    {"enable.idempotence", "the producer is always idempotent, so a retried send never duplicates"},
    {"acks", "every record waits for all in-sync replicas (acks=all) before its batch is acknowledged"},
    {"request.required.acks",
     "every record waits for all in-sync replicas (acks=all) before its batch is acknowledged"},
    {"transactional.id", "Vigil does not use transactions; idempotence gives the delivery promise"},
    {"compression.codec", "set `compression` instead"},
    {"compression.type", "set `compression` instead"},
    {"linger.ms", "set `linger` instead"},
    {"queue.buffering.max.ms", "set `linger` instead"},
    {"message.timeout.ms", "set `delivery_timeout` instead"},
    {"delivery.timeout.ms", "set `delivery_timeout` instead"},
    {nullptr, nullptr},
};
}  // namespace

const OptionSpec kOptions[] = {
    VIGIL_KAFKA_CONNECTION_OPTIONS{
        .key = "topic",
        .type = OptionType::String,
        .required = true,
        .description = "Topic the records are published to (the original project's KAFKA_TOPIC)"},
    {.key = "key_field",
     .type = OptionType::String,
     .default_value = "name",
     .one_of = kKeyFields,
     .description = "Record field used as the message key: name keeps each site in order on one partition; "
                    "none spreads records over partitions"},
    {.key = "compression",
     .type = OptionType::String,
     .default_value = "zstd",
     .one_of = kCodecs,
     .description = "Compression of message batches: none, gzip, snappy, lz4 or zstd"},
    {.key = "linger",
     .type = OptionType::Duration,
     .default_value = "5ms",
     .description = "How long the producer waits to fill a request before sending it"},
    {.key = "delivery_timeout",
     .type = OptionType::Duration,
     .default_value = "2m",
     .description = "How long librdkafka retries one send; past it the record is sent again (counted), never dropped"},
    {.key = "schema_registry",
     .type = OptionType::Map,
     .children = registry::kSinkOptions,
     .description = "Register the record's JSON Schema in a Confluent-compatible registry and tag each message "
                    "with its id"},
    {},
};

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::brokers>("brokers"),
    bind<&Config::topic>("topic"),
    bind<&Config::key_field>("key_field"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, const std::string& client_id, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    load_bound(kBound, node, c, diags);
    if (!kafka::valid_topic_name(c.topic)) {
        diags.error(node.location_of("topic"), node.path_of("topic"),
                    fmt::format("\"{}\" is not a valid Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)", c.topic));
    }
    kafka::read_connection(node, c.props, diags);
    auto linger = std::chrono::duration_cast<std::chrono::milliseconds>(node.get_duration("linger"));
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(node.get_duration("delivery_timeout"));
    if (timeout < std::chrono::seconds(1)) {
        diags.error(node.location_of("delivery_timeout"), node.path_of("delivery_timeout"),
                    "must be at least 1s: shorter gives the brokers no time to answer");
    }
    c.props.insert(c.props.end(), {
                                      {"client.id", client_id},
                                      {"enable.idempotence", "true"},
                                      {"acks", "all"},
                                      {"compression.codec", node.get_string("compression")},
                                      {"linger.ms", std::to_string(linger.count())},
                                      {"message.timeout.ms", std::to_string(timeout.count())},
                                  });
    kafka::read_passthrough(node, kOwned, c.props, diags);
    kafka::validate_client(RD_KAFKA_PRODUCER, c.props, node, diags);
    if (node.has("schema_registry")) {
        c.schema_registry = registry::read_options(node.child("schema_registry"), diags);
        if (c.schema_registry && c.schema_registry->subject.empty()) {
            c.schema_registry->subject = c.topic + "-value";  // Confluent's TopicNameStrategy
        }
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::kafka_sink
