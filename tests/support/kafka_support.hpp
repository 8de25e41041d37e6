// SPDX-License-Identifier: Apache-2.0
// Talking to the real broker of scripts/services from tests: own topics, raw messages in and
// out, and exact counts from the partitions' watermarks.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::test::kafka {

/// The value of a variable `scripts/services env` sets; fails the test when it is missing.
std::string env(const char* name);
/// PLAINTEXT bootstrap servers of the test broker.
std::string plaintext_brokers();
/// `prefix-<random>`: a topic or group no other run uses.
std::string unique(const std::string& prefix);

/// Creates `topic` with `partitions` partitions and waits until it can be written.
void create_topic(const std::string& topic, int partitions);

/// Grants `user` (a SASL user, e.g. KAFKA_DENIED_USERNAME) write access to the topic named
/// `topic` (literal; it need not exist). The broker runs with ACLs on (scripts/services).
void allow_write(const std::string& user, const std::string& topic);
/// Grants `user` reading `topic` as a member of `group`.
void allow_read(const std::string& user, const std::string& topic, const std::string& group);

struct Message {
    std::string key;
    std::string value;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    std::map<std::string, std::string> headers;
};

/// Produces raw messages (idempotent, acks=all) and waits for every delivery report.
void produce(const std::string& topic, const std::vector<Message>& messages);

/// Every message in `topic` from the beginning, once at least `expected` were read and every
/// partition reached its end, or when `timeout` passes.
std::vector<Message> read_all(const std::string& topic, std::size_t expected,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Messages in the topic now: the sum of high minus low watermarks.
std::int64_t count(const std::string& topic);

/// The committed offset of `group` on each partition of `topic` (-1001 when none).
std::map<std::int32_t, std::int64_t> committed(const std::string& group, const std::string& topic);

}  // namespace vigil::test::kafka
