// SPDX-License-Identifier: Apache-2.0
// Options both Kafka plugins share: the `security` block and the `librdkafka` pass-through map,
// turned into librdkafka properties with every problem reported at its file:line:col.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "vigil/config.hpp"

namespace vigil::plugins::kafka {

/// librdkafka properties in the order they are set; later entries win.
using Properties = std::vector<std::pair<std::string, std::string>>;

extern const OptionSpec kSecurityOptions[];

/// The option entries both plugins start their tables with.
#define VIGIL_KAFKA_CONNECTION_OPTIONS                                                                               \
    {.key = "brokers",                                                                                               \
     .type = OptionType::String,                                                                                     \
     .required = true,                                                                                               \
     .description = "Bootstrap brokers, host:port[,host:port...] (the original project's KAFKA_BOOTSTRAP_SERVERS)"}, \
        {.key = "security",                                                                                          \
         .type = OptionType::Map,                                                                                    \
         .children = ::vigil::plugins::kafka::kSecurityOptions,                                                      \
         .description = "How to connect: protocol, SASL mechanism and credentials, CA and client certificate"},      \
        {.key = "librdkafka",                                                                                        \
         .type = OptionType::StringMap,                                                                              \
         .description = "Other librdkafka properties, passed through and checked by librdkafka at load"},

/// A librdkafka property Vigil sets itself, and what to use instead.
struct OwnedProperty {
    const char* key;
    const char* reason;
};

/// Properties every Kafka client of Vigil owns (brokers, security): refused in `librdkafka:`.
extern const OwnedProperty kClientOwned[];

/// Reads `brokers` and the `security` block of `node` into `props`.
void read_connection(const ConfigNode& node, Properties& props, Diagnostics& diags);

/// Reads the `librdkafka:` map of `node`, checking each entry with librdkafka itself (so its own
/// message becomes a located error) and refusing keys in `owned` or kClientOwned with the reason.
void read_passthrough(const ConfigNode& node, const OwnedProperty* owned, Properties& props, Diagnostics& diags);

/// Checks the properties as a whole (librdkafka checks some combinations only when a client is
/// created) by creating a client with no brokers and destroying it at once: nothing connects.
void validate_client(rd_kafka_type_t type, const Properties& props, const ConfigNode& node, Diagnostics& diags);

/// The value of a property, or "" when not set.
std::string property(const Properties& props, const std::string& key);

/// The `session_timeout` option of `node` in milliseconds, refused (located) outside what brokers
/// accept by default: group.min.session.timeout.ms 6 s to group.max.session.timeout.ms 30 min.
std::chrono::milliseconds read_session_timeout(const ConfigNode& node, Diagnostics& diags);

/// Kafka's rule for topic names: 1 to 249 characters of [a-zA-Z0-9._-].
bool valid_topic_name(const std::string& name);

/// Appends what makes a consumer a member of `group` that commits nothing by itself (Vigil
/// commits, or nothing is committed): client.id, group.id, no auto commit nor offset store,
/// auto.offset.reset = `start`, session.timeout.ms and a heartbeat a third of it (3 s at most).
void add_group_member(Properties& props, const std::string& client_id, const std::string& group,
                      const std::string& start, std::chrono::milliseconds session);

}  // namespace vigil::plugins::kafka
