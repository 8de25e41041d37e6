// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kafka_client.hpp"
#include "kafka_sink_config.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_sink {

/// Publishes each record as one JSON message through an idempotent producer (acks=all).
/// write() returns Accepted only when every record of the batch has a delivery report:
/// delivered, or refused for good because of the record itself (too large), which the core
/// dead-letters. A record whose send failed for a reason that may heal is sent again inside the
/// same write(), so one failed record never makes the whole batch go out twice. A refusal of
/// the topic or the cluster (missing, not authorised) is an outage, not poison: write()
/// returns Retry naming it, the core backs off and calls again with the same batch (what was
/// delivered is not sent twice), and health() reports it until a write succeeds.
class KafkaSink final : public Sink {
  public:
    KafkaSink(Config config, std::string instance, Logger log);
    ~KafkaSink() override;

    /// With schema_registry: registers the record's schema; a registry that refuses it (an
    /// incompatible change) stops the agent at start, one located line with its words.
    Status preflight() override;
    Status start() override;
    WriteResult write(const Batch& batch) override;
    void interrupt() override;
    void stop() override;
    Status healthcheck() override;
    Status health() const override;
    /// Batches that wait for this sink are written together, up to 10,000 records: a write
    /// costs one round trip to the brokers whatever its size, so a backlog (a disk buffer
    /// catching up after an outage) drains in few, large writes. Nothing waits to be merged.
    Batching batching() const override { return {10000, std::chrono::nanoseconds(0)}; }

    /// The message key of a record under `field`; empty for KeyField::None.
    static std::string_view key_of(const CheckRecord& r, KeyField field);

  private:
    enum class Slot : std::uint8_t { ToSend, InFlight, Delivered, Rejected };
    struct Current {
        std::uint64_t sequence = 0;
        std::uint32_t generation = 0;  // tells late reports of an abandoned batch apart
        std::vector<Slot> slots;
        std::vector<Rejection> rejected;
        std::size_t remaining = 0;                                // slots ToSend or InFlight
        rd_kafka_resp_err_t outage = RD_KAFKA_RESP_ERR_NO_ERROR;  // a topic-level refusal seen
        std::string outage_detail;
    };

    Status connect();
    /// Registers the record's schema if it has no id yet; the error names subject and registry.
    Status ensure_schema();
    void begin(const Batch& batch);
    /// Produces every ToSend slot it can; false when librdkafka's queue is full.
    void produce_pending(const Batch& batch);
    void on_delivery(const rd_kafka_message_t& m);
    void recreate_after_fatal();
    /// Purges and destroys the producer; unconfirmed records are sent again by the next one.
    void drop_producer();
    /// Records a topic-level refusal for the running write (the first one counts).
    void note_outage(rd_kafka_resp_err_t err, std::string detail);
    /// Ends a write that met a topic-level refusal: loud, once a minute, and Retry.
    WriteResult outage_result();
    Counter& error_counter(rd_kafka_resp_err_t err);

    Config config_;
    std::string instance_;
    Logger log_;
    kafka::ClientEvents events_;
    kafka::Client producer_;
    std::unique_ptr<registry::Client> registry_;  // with schema_registry
    // The schema of every record, then (kind_subjects) each kind's own, in kRecordKinds' order.
    struct Schema {
        std::string subject;
        std::string text;     // as registered
        std::int32_t id = 0;  // 0 until registered
        std::string id_text;  // the id as the header carries it
    };
    std::vector<Schema> schemas_;
    bool registered() const;
    const Schema& schema_of(const CheckRecord& r) const;  // its kind's, else the one of every record
    bool refused_ = false;                                // the registry's last answer was a refusal
    Current cur_;
    std::uint32_t next_generation_ = 1;
    std::atomic<bool> interrupted_{false};
    bool stopping_ = false;
    Complaint resend_complaint_;
    std::uint64_t resent_since_log_ = 0;
    Complaint fatal_complaint_;  // a fatal error that comes back with each new producer (rights)
    Complaint outage_complaint_;
    mutable Mutex health_mutex_;
    std::string outage_
        VIGIL_GUARDED_BY(health_mutex_);  // the topic-level refusal health() reports; empty when writable

    Counter& delivered_;
    Counter& rejected_;
    Counter& resent_;
    std::map<rd_kafka_resp_err_t, Counter*> errors_;
};

}  // namespace vigil::plugins::kafka_sink
