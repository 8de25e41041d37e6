// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "dead_letter_queue.hpp"
#include "kafka_client.hpp"
#include "kafka_source_config.hpp"
#include "schema_registry.hpp"
#include "offset_tracker.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_source {

/// Reads check records from Kafka as a member of a consumer group. Auto-commit and auto offset
/// store are off: an offset is committed only when every message before it on its partition
/// was acknowledged by the sinks (or, if it was not a check result, confirmed in the
/// dead-letter topic). So a restart, a rebalance or a crash re-reads what was not stored, and
/// never skips anything.
class KafkaSource final : public Source {
  public:
    /// `record_schema`: the compiled record schema that unframed messages are checked against
    /// (with `validate: true`; make_kafka_source compiles it, so a source never runs without it).
    KafkaSource(Config config, std::string instance, Logger log,
                std::shared_ptr<const registry::Validator> record_schema = nullptr);
    ~KafkaSource() override;

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override;
    bool supports_once() const override { return true; }
    Status healthcheck() override;

  private:
    using Clock = std::chrono::steady_clock;

    // Threads. The poll thread (run()) owns every member not marked otherwise: librdkafka calls
    // on_rebalance and on_commit from inside its poll, on that thread. The lag thread
    // (report_lag) reads consumer_ and tracker_ under commit_mutex_; the core's threads commit
    // acknowledgements (commit()) under it too. consumer_ is replaced only under commit_mutex_
    // (connect, recreate), so the poll thread reads it without the lock and the others with it.
    // tracker_ and dlq_ lock inside.

    std::unique_ptr<registry::Client> registry_;
    std::shared_ptr<const registry::Validator> own_schema_;  // the record's: for unframed messages
    std::unordered_map<std::uint32_t, std::shared_ptr<const registry::Validator>> schemas_;
    std::unordered_map<std::uint32_t, std::string> unknown_schemas_;  // ids the registry said it has not
    const StopToken* stop_ = nullptr;                                 // during run()
    Counter* invalid_ = nullptr;

    Status open(bool once);
    /// Creates the consumer and subscribes.
    Status connect(bool once);
    /// After a fatal error (a static member fenced, say): forgets every partition (what was not
    /// committed is read again by whoever gets it) and starts a new consumer in the group.
    Status recreate(bool once);
    void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
    void on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);
    void handle(rd_kafka_message_t& m);
    /// What schema_checked made of a message: Ok with its JSON; Reject with the reason (it is
    /// dead-lettered); Stopping when the source stopped while the registry was away (the message
    /// is left unacknowledged and read again later).
    struct Checked {
        enum class Verdict { Ok, Reject, Stopping } verdict = Verdict::Ok;
        std::string_view json;
        std::string reason;
    };
    /// The JSON of a message, its Confluent framing taken off, checked against its schema when
    /// `validate` is on.
    Checked schema_checked(const rd_kafka_message_t& m);
    /// The compiled schema of id `id`, fetched once: Ok with it, Reject with the reason when the
    /// registry does not know it (or it does not compile), Stopping when the source stops while
    /// the registry does not answer.
    Checked schema_of(std::uint32_t id, std::shared_ptr<const registry::Validator>& schema);
    /// Offers the pending batch for up to `wait` (an empty one counts as Accepted). Full and
    /// Stopping leave it pending, with its coordinates.
    Emitter::Offer emit_batch(Emitter& out, Duration wait);
    /// Pauses (or resumes) every assigned partition. Paused, the consumer can poll on for the
    /// group's sake (rebalances, max.poll.interval.ms) and no message arrives; librdkafka drops
    /// what it prefetched and resumes from the next offset not yet handed to us.
    void set_paused(bool paused);
    /// Paused while the pipeline stays full or the dead-letter topic backs up.
    void update_pause();
    void commit(const std::vector<OffsetTracker::Commit>& commits, bool sync);
    /// Runs on a thread of its own, so lag is reported while backpressure holds the source.
    void report_lag();
    /// The partition's lag gauge (under commit_mutex_: the lag thread and a revoke both use lag_).
    Gauge& lag_gauge(const TopicPartition& tp) VIGIL_REQUIRES(commit_mutex_);
    Labels lag_labels(const TopicPartition& tp) const;
    static constexpr const char* kLagGauge = "vigil_kafka_source_consumer_lag";

    Config config_;
    std::string instance_;
    Logger log_;
    kafka::ClientEvents events_;
    kafka::Client consumer_;
    std::unique_ptr<DeadLetterQueue> dlq_;
    OffsetTracker tracker_;

    Batch batch_;
    std::vector<Coord> coords_;
    Clock::time_point batch_started_{};
    std::set<TopicPartition> at_eof_;              // --once: partitions read to their end
    std::optional<Clock::time_point> full_since_;  // the pipeline has refused the batch since
    bool paused_ = false;
    bool pipeline_pause_ = false;          // the pipeline has been full for kPauseAfter
    bool backlog_pause_ = false;           // dead letters wait past dead_letter_backlog
    Clock::time_point no_pause_before_{};  // an assign happened just before

    Mutex commit_mutex_;  // acknowledgements commit from core threads
    bool closing_ VIGIL_GUARDED_BY(commit_mutex_) = false;
    Complaint consume_complaint_;
    Complaint commit_complaint_;

    Counter& consumed_;
    Counter& commits_;
    Counter& commit_errors_;
    Counter& pauses_;
    Counter& dead_letter_pauses_;
    Counter& recreated_;
    Complaint fatal_complaint_;
    Complaint pause_complaint_;
    Complaint registry_complaint_{std::chrono::seconds(30)};
    std::map<TopicPartition, Gauge*> lag_ VIGIL_GUARDED_BY(commit_mutex_);
};

/// The source for `config`, or nullptr with `error` set. With `validate: true` the record's
/// schema (`record_schema`; empty: the SDK's record_json_schema()) is compiled here, so a schema
/// that does not compile stops the pipeline at start instead of holding every message.
std::unique_ptr<KafkaSource> make_kafka_source(Config config, std::string instance, Logger log, std::string& error,
                                               const std::string& record_schema = {});

}  // namespace vigil::plugins::kafka_source
