// SPDX-License-Identifier: Apache-2.0
#include "dead_letter_queue.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "kafka_errors.hpp"

namespace vigil::plugins::kafka_source {

namespace {
using Clock = std::chrono::steady_clock;
// An oversized message is kept in part: enough to see what it was, small enough to be accepted.
constexpr std::size_t kKeptOfOversized = 64 * 1024;
constexpr auto kRetryPause = std::chrono::seconds(1);
// A letter's bookkeeping besides its bytes: the map node, the callback, the strings' headers.
constexpr std::uint64_t kLetterOverhead = 256;
}  // namespace

DeadLetterQueue::DeadLetterQueue(const Config& config, std::string instance, Logger log)
    : config_(config), instance_(std::move(instance)), log_(log),
      events_(log, config.brokers, true),  // the consumer logs the outage; letters log their own failures
      complaint_(std::chrono::seconds(30)),
      sent_(counter("vigil_kafka_source_dead_lettered_total", {{"instance", instance_}},
                    "Messages that were not check results, confirmed in the dead-letter topic")) {
    events_.owner = this;
}

DeadLetterQueue::~DeadLetterQueue() {
    if (producer_) {
        rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        letters_.clear();
        pending_bytes_ = 0;
        producer_.reset();
    }
}

Status DeadLetterQueue::open() {
    std::string error;
    producer_ = kafka::make_client(
        RD_KAFKA_PRODUCER, config_.producer, events_,
        [](rd_kafka_conf_t* conf) {
            rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
                static_cast<DeadLetterQueue*>(kafka::events_of(rk).owner)->on_delivery(*m);
            });
        },
        error);
    return producer_ ? Status::success() : Status::error(error);
}

void DeadLetterQueue::send(const rd_kafka_message_t& m, const std::string& reason, std::function<void()> done) {
    std::string topic = rd_kafka_topic_name(m.rkt);
    Letter letter;
    letter.topic = config_.dead_letter_topic_for(topic);
    if (m.key != nullptr) {
        letter.key.assign(static_cast<const char*>(m.key), m.key_len);
    }
    if (m.payload != nullptr) {
        std::size_t keep = m.len > config_.max_message_bytes ? kKeptOfOversized : m.len;
        letter.value.assign(static_cast<const char*>(m.payload), std::min(keep, m.len));
        if (keep < m.len) {
            letter.headers.emplace_back(kTruncatedHeader, std::to_string(m.len));
        }
    }
    rd_kafka_headers_t* original = nullptr;
    if (rd_kafka_message_headers(&m, &original) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(original, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
            letter.headers.emplace_back(name,
                                        value != nullptr ? std::string(static_cast<const char*>(value), size) : "");
        }
    }
    letter.headers.emplace_back(kReasonHeader, reason);
    letter.headers.emplace_back(kTopicHeader, topic);
    letter.headers.emplace_back(kPartitionHeader, std::to_string(m.partition));
    letter.headers.emplace_back(kOffsetHeader, std::to_string(m.offset));
    letter.done = std::move(done);
    letter.bytes = kLetterOverhead + letter.topic.size() + letter.key.size() + letter.value.size();
    for (const auto& [k, v] : letter.headers) {
        letter.bytes += k.size() + v.size() + 64;
    }
    pending_bytes_ += letter.bytes;
    auto id = next_id_++;
    produce(id, letters_.emplace(id, std::move(letter)).first->second);
}

void DeadLetterQueue::produce(std::uint64_t id, Letter& letter) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(letter.headers.size());
    for (const auto& [k, v] : letter.headers) {
        rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
    }
    auto err =
        rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(letter.topic.c_str()),
                          RD_KAFKA_V_KEY(letter.key.empty() ? nullptr : letter.key.data(), letter.key.size()),
                          RD_KAFKA_V_VALUE(letter.value.empty() ? nullptr : letter.value.data(), letter.value.size()),
                          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(id))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        letter.in_flight = true;
        return;
    }
    rd_kafka_headers_destroy(headers);  // owned by librdkafka only on success
    letter.in_flight = false;
    letter.retry_at = Clock::now() + kRetryPause;
    if (complaint_.complain()) {
        log_.warn("cannot queue a dead letter for topic {}: {}; trying again (its offset is not committed meanwhile)",
                  letter.topic, kafka::describe(err));
    }
}

void DeadLetterQueue::on_delivery(const rd_kafka_message_t& m) {
    auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m._private));
    auto it = letters_.find(id);
    if (it == letters_.end()) {
        return;
    }
    if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        events_.on_progress();
        sent_.inc();
        auto done = std::move(it->second.done);
        pending_bytes_ -= it->second.bytes;
        letters_.erase(it);
        if (done) {
            done();
        }
        return;
    }
    // Even a permanent error is retried: dropping the letter would lose the message, and
    // committing past it would skip it. The log says why the stream is held.
    if (kafka::classify(m.err) == kafka::Fate::Outage) {
        // librdkafka keeps a refused topic's state until its next metadata refresh (minutes):
        // retry with a new producer, so a topic created or a right granted meanwhile counts.
        renew_ = true;
    }
    it->second.in_flight = false;
    it->second.retry_at = Clock::now() + kRetryPause;
    if (complaint_.complain()) {
        log_.error("cannot write to dead-letter topic {}: {}; retrying, and the offsets after it wait",
                   it->second.topic, kafka::describe(m.err));
    }
}

void DeadLetterQueue::poll(int timeout_ms) {
    if (!producer_) {
        return;
    }
    rd_kafka_poll(producer_.get(), timeout_ms);
    auto now = Clock::now();
    // An idempotent producer that hit a fatal error (seen after a refused topic on a new cluster)
    // refuses every letter from then on with _FATAL: only a new producer gets them out. Its
    // letters will never be confirmed, so all of them go again.
    char reason[512] = "";
    if (auto fatal = rd_kafka_fatal_error(producer_.get(), reason, sizeof reason);
        fatal != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (complaint_.complain()) {
            log_.error(
                "dead letters: the idempotent producer hit a fatal error: {} ({}); creating a new producer "
                "and sending the unconfirmed letters again",
                reason, rd_kafka_err2name(fatal));
        }
        for (auto& [id, letter] : letters_) {
            letter.in_flight = false;
            letter.retry_at = now;
        }
        renew_ = true;
    }
    if (renew_ && std::none_of(letters_.begin(), letters_.end(), [](const auto& l) { return l.second.in_flight; })) {
        renew_ = false;
        producer_.reset();
        if (auto st = open(); !st.ok()) {
            log_.error("dead letters: {}", st.message());
            return;
        }
    }
    for (auto& [id, letter] : letters_) {
        if (!letter.in_flight && letter.retry_at <= now) {
            produce(id, letter);
        }
    }
}

std::size_t DeadLetterQueue::flush(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!letters_.empty() && Clock::now() < deadline) {
        poll(50);
    }
    return letters_.size();
}

}  // namespace vigil::plugins::kafka_source
