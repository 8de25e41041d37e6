// SPDX-License-Identifier: Apache-2.0
// Messages that are not check results go to a dead-letter topic, with headers saying why and
// where they came from. Their offsets count as done only once Kafka confirms the dead letter,
// so a bad message is never skipped silently, even when the dead-letter topic is unreachable.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kafka_client.hpp"
#include "kafka_source_config.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"

namespace vigil::plugins::kafka_source {

/// The headers a dead letter carries besides the original message's own.
inline constexpr const char* kReasonHeader = "vigil.reason";
inline constexpr const char* kTopicHeader = "vigil.topic";
inline constexpr const char* kPartitionHeader = "vigil.partition";
inline constexpr const char* kOffsetHeader = "vigil.offset";
inline constexpr const char* kTruncatedHeader = "vigil.original_bytes";

/// Used from the source's thread only.
class DeadLetterQueue {
  public:
    DeadLetterQueue(const Config& config, std::string instance, Logger log);
    ~DeadLetterQueue();

    Status open();
    /// Sends `m` to its dead-letter topic with `reason`; `done` runs once Kafka confirmed it.
    void send(const rd_kafka_message_t& m, const std::string& reason, std::function<void()> done);
    /// Serves delivery reports (running `done`s) and sends again what failed, after a pause.
    void poll(int timeout_ms);
    /// Letters not confirmed yet.
    std::size_t pending() const { return letters_.size(); }
    /// Their memory: keys, values and headers, plus a fixed cost per letter.
    std::uint64_t pending_bytes() const { return pending_bytes_; }
    /// Past dead_letter_backlog: the source pauses its partitions until Kafka takes letters.
    bool backed_up() const { return pending_bytes_ >= config_.dead_letter_backlog; }
    /// Polls until every letter is confirmed or `timeout` passes; returns pending().
    std::size_t flush(std::chrono::milliseconds timeout);

  private:
    struct Letter {
        std::string topic, key, value;
        std::vector<std::pair<std::string, std::string>> headers;
        std::function<void()> done;
        bool in_flight = false;
        std::chrono::steady_clock::time_point retry_at{};
        std::uint64_t bytes = 0;
    };
    void produce(std::uint64_t id, Letter& letter);
    void on_delivery(const rd_kafka_message_t& m);

    const Config& config_;
    std::string instance_;
    Logger log_;
    kafka::ClientEvents events_;
    kafka::Client producer_;
    std::map<std::uint64_t, Letter> letters_;
    std::uint64_t next_id_ = 1;
    std::uint64_t pending_bytes_ = 0;
    bool renew_ = false;  // the topic refused: the next attempt takes a new producer
    Complaint complaint_;
    Counter& sent_;
};

}  // namespace vigil::plugins::kafka_source
