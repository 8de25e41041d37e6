// SPDX-License-Identifier: Apache-2.0
#include "kafka_source.hpp"

#include <charconv>

#include <atomic>
#include <cstring>
#include <thread>

#include <fmt/core.h>
#include <fmt/format.h>

#include "kafka_errors.hpp"
#include "vigil/redact.hpp"
#include "message_decode.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::kafka_source {

namespace {
constexpr auto kRecommitEvery = std::chrono::seconds(5);
constexpr auto kLagEvery = std::chrono::seconds(5);
constexpr auto kDeadLetterFlush = std::chrono::seconds(10);
constexpr int kPollMs = 100;
// How long the pipeline may refuse a batch before the partitions are paused so the consumer can
// poll on. Well under any max.poll.interval.ms (librdkafka wants it >= session.timeout.ms, which
// brokers keep >= 6 s by default), and long enough that a briefly full pipeline does not throw
// away librdkafka's prefetched messages each time.
constexpr auto kPauseAfter = std::chrono::seconds(1);

struct ListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using List = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

KafkaSource& self(rd_kafka_t* rk) { return *static_cast<KafkaSource*>(kafka::events_of(rk).owner); }
}  // namespace

KafkaSource::KafkaSource(Config config, std::string instance, Logger log,
                         std::shared_ptr<const registry::Validator> record_schema)
    : own_schema_(std::move(record_schema)), config_(std::move(config)), instance_(std::move(instance)), log_(log),
      events_(log, config_.brokers), consume_complaint_(std::chrono::seconds(30)),
      commit_complaint_(std::chrono::seconds(30)),
      consumed_(counter("vigil_kafka_source_messages_total", {{"instance", instance_}}, "Messages read")),
      commits_(counter("vigil_kafka_source_commits_total", {{"instance", instance_}},
                       "Offset commits the group coordinator confirmed")),
      commit_errors_(counter("vigil_kafka_source_commit_errors_total", {{"instance", instance_}},
                             "Offset commits that failed (asked again later)")),
      pauses_(counter("vigil_kafka_source_pauses_total", {{"instance", instance_}},
                      "Times the partitions were paused because the pipeline stayed full")),
      dead_letter_pauses_(counter("vigil_kafka_source_dead_letter_pauses_total", {{"instance", instance_}},
                                  "Times the partitions were paused because dead letters waited past "
                                  "dead_letter_backlog")),
      recreated_(counter("vigil_kafka_source_recreated_total", {{"instance", instance_}},
                         "Consumers replaced after a fatal error (e.g. a static member fenced)")),
      fatal_complaint_(std::chrono::seconds(60)), pause_complaint_(std::chrono::seconds(60)) {
    events_.owner = this;
    invalid_ = &counter("vigil_kafka_source_invalid_total", {{"instance", instance_}},
                        "Records that did not match their schema (validate: true), dead-lettered");
    if (config_.schema_registry) {
        registry_ = std::make_unique<registry::Client>(*config_.schema_registry);
    }
}

KafkaSource::~KafkaSource() {
    if (!consumer_) {
        return;
    }
    // The pipeline has resolved every batch by now: commit the final positions once, then leave
    // the group (the revoke that closing triggers finds nothing left to commit).
    commit(tracker_.unconfirmed(), true);
    {
        Lock lock(commit_mutex_);
        closing_ = true;
    }
    rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
}

Status KafkaSource::healthcheck() { return kafka::probe(config_.producer, config_.topics.front(), log_); }

Status KafkaSource::open(bool once) {
    if (auto st = connect(once); !st.ok()) {
        return st;
    }
    dlq_ = std::make_unique<DeadLetterQueue>(config_, instance_, log_);
    return dlq_->open();
}

Status KafkaSource::recreate(bool once) {
    char reason[512] = "";
    auto err = rd_kafka_fatal_error(consumer_.get(), reason, sizeof reason);
    recreated_.inc();
    if (fatal_complaint_.complain()) {
        auto unlogged = fatal_complaint_.suppressed();
        log_.error(
            "the consumer of group {} hit a fatal error: {} ({}); starting a new one: what was read and not "
            "committed is read again{}",
            config_.group, reason, rd_kafka_err2name(err),
            unlogged > 0 ? fmt::format(" ({} more since the last report)", unlogged) : "");
    }
    for (const auto& tp : tracker_.assigned()) {
        tracker_.revoke(tp);
    }
    batch_ = Batch{};
    coords_.clear();
    at_eof_.clear();
    full_since_.reset();
    paused_ = false;
    pipeline_pause_ = false;
    {
        Lock lock(commit_mutex_);
        for (const auto& [tp, g] : lag_) {
            hide_gauge(kLagGauge, lag_labels(tp));
        }
        lag_.clear();
        // A fatal consumer cannot leave its group cleanly; closing would only wait.
        rd_kafka_destroy_flags(consumer_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    return connect(once);
}

Status KafkaSource::connect(bool once) {
    auto props = config_.consumer;
    if (once) {
        props.emplace_back("enable.partition.eof", "true");
    }
    std::string error;
    kafka::Client client = kafka::make_client(
        RD_KAFKA_CONSUMER, props, events_,
        [](rd_kafka_conf_t* conf) {
            rd_kafka_conf_set_rebalance_cb(
                conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void*) {
                    self(rk).on_rebalance(err, parts);
                });
            rd_kafka_conf_set_offset_commit_cb(
                conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void*) {
                    self(rk).on_commit(err, offsets);
                });
        },
        error);
    if (!client) {
        return Status::error(error);
    }
    {
        Lock lock(commit_mutex_);
        consumer_ = std::move(client);
    }
    rd_kafka_poll_set_consumer(consumer_.get());
    List topics(rd_kafka_topic_partition_list_new(static_cast<int>(config_.topics.size())));
    for (const auto& t : config_.topics) {
        rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (auto err = rd_kafka_subscribe(consumer_.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::error(
            fmt::format("cannot subscribe to {}: {}", fmt::join(config_.topics, ", "), kafka::describe(err)));
    }
    return Status::success();
}

void KafkaSource::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        // New partitions are never paused here: a pause right after an assign can outdate the
        // assign's fetch start (librdkafka #2190) and leave the partition unread. Partitions we
        // still hold are resumed now, before the assign; the pause comes back after kPauseAfter
        // if the pipeline is still full.
        set_paused(false);
        full_since_.reset();
        pipeline_pause_ = false;
        backlog_pause_ = false;
        no_pause_before_ = Clock::now() + kPauseAfter;
        for (int i = 0; i < parts->cnt; ++i) {
            TopicPartition tp{parts->elems[i].topic, parts->elems[i].partition};
            tracker_.assign(tp);
            at_eof_.erase(tp);
        }
        log_.info("assigned {} partition(s) of group {}", parts->cnt, config_.group);
        if (cooperative) {
            if (rd_kafka_error_t* e = rd_kafka_incremental_assign(consumer_.get(), parts)) {
                log_.error("incremental assign failed: {}", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else {
            rd_kafka_assign(consumer_.get(), parts);
        }
        return;
    }
    // Revoked (or lost): commit what was acknowledged, and forget the rest. Acknowledgements
    // still to come for those partitions are ignored (another member reads them again).
    std::vector<OffsetTracker::Commit> final;
    for (int i = 0; i < parts->cnt; ++i) {
        TopicPartition tp{parts->elems[i].topic, parts->elems[i].partition};
        if (auto pos = tracker_.revoke(tp);
            pos && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(consumer_.get())) {
            final.push_back({tp, *pos});
        }
        at_eof_.erase(tp);
    }
    commit(final, true);
    {
        // A partition no longer ours stops reporting lag (its new owner reports it).
        Lock lock(commit_mutex_);
        for (int i = 0; i < parts->cnt; ++i) {
            TopicPartition tp{parts->elems[i].topic, parts->elems[i].partition};
            if (lag_.erase(tp) > 0) {
                hide_gauge(kLagGauge, lag_labels(tp));
            }
        }
    }
    // Records read but not handed on whose partition just left the tracker are dropped.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < coords_.size(); ++i) {
        if (tracker_.is_current(coords_[i])) {
            batch_.records[kept] = std::move(batch_.records[i]);
            coords_[kept++] = coords_[i];
        }
    }
    std::size_t dropped = coords_.size() - kept;
    batch_.records.resize(kept);
    coords_.resize(kept);
    log_.info("{} {} partition(s) of group {}; committed {}, dropped {} unsent record(s)",
              err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "revoked" : "lost", parts->cnt, config_.group, final.size(),
              dropped);
    if (paused_) {
        // A paused partition stays paused through a revoke and comes back paused if it is
        // assigned again (librdkafka keeps the flag): clear it while it is still ours.
        rd_kafka_resume_partitions(consumer_.get(), parts);
    }
    if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(consumer_.get(), parts)) {
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(consumer_.get(), nullptr);
    }
}

void KafkaSource::commit(const std::vector<OffsetTracker::Commit>& commits, bool sync) {
    if (commits.empty()) {
        return;
    }
    Lock lock(commit_mutex_);
    if (closing_ || !consumer_) {
        return;
    }
    List list(rd_kafka_topic_partition_list_new(static_cast<int>(commits.size())));
    for (const auto& c : commits) {
        rd_kafka_topic_partition_list_add(list.get(), c.tp.topic.c_str(), c.tp.partition)->offset = c.offset;
    }
    auto err = rd_kafka_commit(consumer_.get(), list.get(), sync ? 0 : 1);
    if (sync || err != RD_KAFKA_RESP_ERR_NO_ERROR) {  // an async commit that went out reports in on_commit
        on_commit(err, list.get());
    }
}

void KafkaSource::on_commit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return;
    }
    for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
        const auto& e = offsets->elems[i];
        bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && e.err == RD_KAFKA_RESP_ERR_NO_ERROR;
        tracker_.commit_result({e.topic, e.partition}, e.offset, ok);
        if (ok) {
            commits_.inc();
        } else {
            commit_errors_.inc();
            if (commit_complaint_.complain()) {
                log_.warn("commit of offset {} on {}/{} failed: {}; asking again", e.offset, e.topic, e.partition,
                          kafka::describe(err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : e.err));
            }
        }
    }
}

void KafkaSource::handle(rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_eof_.insert({rd_kafka_topic_name(m.rkt), m.partition});
        return;
    }
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string what = rd_kafka_message_errstr(&m);
        if (kafka::is_connectivity_error(m.err)) {
            events_.on_error(m.err, what);
        } else if (consume_complaint_.complain()) {
            log_.warn("reading {}: {} ({})", m.rkt != nullptr ? rd_kafka_topic_name(m.rkt) : config_.topics.front(),
                      what, rd_kafka_err2name(m.err));
        }
        return;
    }
    consumed_.inc();
    events_.on_progress();
    std::string topic = rd_kafka_topic_name(m.rkt);
    TopicPartition tp{topic, m.partition};
    at_eof_.erase(tp);
    auto coord = tracker_.track(tp, m.offset);
    if (coord.epoch == 0) {
        return;  // from a partition no longer ours: its new owner reads it
    }
    auto checked = schema_checked(m);
    if (checked.verdict == Checked::Verdict::Stopping) {
        return;  // left unacknowledged, so its offset is not committed and it is read again
    }
    auto decoded = checked.verdict == Checked::Verdict::Ok
                       ? decode_message(topic, m.partition, m.offset, checked.json.data(), checked.json.size(),
                                        config_.max_message_bytes)
                       : Decoded{std::nullopt, std::move(checked.reason)};
    if (decoded.record) {
        if (batch_.records.empty()) {
            batch_started_ = Clock::now();
        }
        batch_.records.push_back(std::move(*decoded.record));
        coords_.push_back(coord);
        return;
    }
    log_.warn("topic={} partition={} offset={}: not a check result: {}; sent to {}", topic, m.partition, m.offset,
              decoded.reason, config_.dead_letter_topic_for(topic));
    dlq_->send(m, decoded.reason, [this, coord] {
        tracker_.done(coord);
        commit(tracker_.take_commits(), false);
    });
}

Emitter::Offer KafkaSource::emit_batch(Emitter& out, Duration wait) {
    if (batch_.records.empty()) {
        return Emitter::Offer::Accepted;
    }
    auto coords = std::make_shared<std::vector<Coord>>(std::move(coords_));
    coords_.clear();
    AckFn on_ack = [this, coords](AckStatus status) {
        if (status != AckStatus::Delivered) {
            return;  // not stored: its offsets stay uncommitted and are read again
        }
        for (const auto& c : *coords) {
            tracker_.done(c);
        }
        commit(tracker_.take_commits(), false);
    };
    auto offered = out.offer(batch_, on_ack, wait);
    if (offered == Emitter::Offer::Accepted) {
        batch_ = Batch{};
    } else {
        coords_ = std::move(*coords);  // still ours: a revoke may yet trim it
    }
    return offered;
}

void KafkaSource::update_pause() {
    // Not right after an assign (see on_rebalance): what is read meanwhile is bounded by then.
    // Paused at dead_letter_backlog, resumed at half of it, so the partitions do not flap with
    // each confirmation.
    bool backlog = backlog_pause_ ? dlq_->pending_bytes() * 2 > config_.dead_letter_backlog
                                  : dlq_->backed_up() && Clock::now() >= no_pause_before_;
    if (backlog && !backlog_pause_) {
        dead_letter_pauses_.inc();
        if (pause_complaint_.complain()) {
            log_.warn(
                "{} dead letter(s) ({}) wait for the dead-letter topic's confirmation: pausing the partitions "
                "until it takes them (dead_letter_backlog {})",
                dlq_->pending(), format_size(dlq_->pending_bytes()), format_size(config_.dead_letter_backlog));
        }
    }
    backlog_pause_ = backlog;
    set_paused(pipeline_pause_ || backlog);
}

void KafkaSource::set_paused(bool paused) {
    if (paused == paused_) {
        return;
    }
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(consumer_.get(), &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    List parts(assigned);
    auto err = paused ? rd_kafka_pause_partitions(consumer_.get(), parts.get())
                      : rd_kafka_resume_partitions(consumer_.get(), parts.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_.warn("{} partitions: {}", paused ? "pausing" : "resuming", kafka::describe(err));
        return;
    }
    paused_ = paused;
    if (paused && pipeline_pause_) {
        pauses_.inc();
        if (pause_complaint_.complain()) {
            log_.info(
                "the pipeline has been full for {} ms: paused {} partition(s) and polling on so the group "
                "keeps them; reading resumes where it stopped once the sinks catch up",
                std::chrono::duration_cast<std::chrono::milliseconds>(kPauseAfter).count(), parts->cnt);
        }
    }
}

Status KafkaSource::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    if (auto st = open(options.once); !st.ok()) {
        return st;
    }
    stop_ = &stop;
    auto next_recommit = Clock::now() + kRecommitEvery;
    std::atomic<bool> finished{false};
    std::thread lag_reporter([&] {
        auto next = Clock::now() + kLagEvery;
        while (!finished && !stop.wait_for(std::chrono::milliseconds(200))) {
            if (Clock::now() >= next) {
                report_lag();
                next = Clock::now() + kLagEvery;
            }
        }
    });
    struct Join {
        std::thread& t;
        std::atomic<bool>& finished;
        ~Join() {
            finished = true;
            t.join();
        }
    } join_lag{lag_reporter, finished};
    while (!stop.stop_requested()) {
        if (!consumer_ || rd_kafka_fatal_error(consumer_.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (auto st = consumer_ ? recreate(options.once) : connect(options.once); !st.ok()) {
                log_.error("{}; trying again", st.message());
                stop.wait_for(std::chrono::seconds(1));
                continue;
            }
        }
        int wait = kPollMs;
        if (!batch_.records.empty()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(batch_started_ + config_.max_batch_delay -
                                                                              Clock::now())
                            .count();
            wait = static_cast<int>(std::clamp<std::int64_t>(left, 0, kPollMs));
        }
        if (paused_) {
            // Rebalances and the group's poll deadline are served here; paused partitions
            // deliver nothing (one assigned a moment ago might: it is kept, not lost).
            if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 0)) {
                handle(*m);
                rd_kafka_message_destroy(m);
            }
        }
        // Read what is there without waiting once a batch is under way, up to its size.
        while (!paused_ && batch_.records.size() < config_.max_batch) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), wait);
            if (m == nullptr) {
                break;
            }
            handle(*m);
            rd_kafka_message_destroy(m);
            wait = 0;
        }
        dlq_->poll(0);
        auto now = Clock::now();
        bool due = batch_.records.size() >= config_.max_batch ||
                   (!batch_.records.empty() && now >= batch_started_ + config_.max_batch_delay);
        if (due) {
            auto offered = emit_batch(out, std::chrono::milliseconds(kPollMs));
            if (offered == Emitter::Offer::Stopping) {
                break;
            }
            if (offered == Emitter::Offer::Accepted) {
                full_since_.reset();
                pipeline_pause_ = false;
            } else if (!full_since_) {
                full_since_ = Clock::now();
            } else if (Clock::now() - *full_since_ >= kPauseAfter) {
                pipeline_pause_ = true;
            }
        } else if (pipeline_pause_) {
            full_since_.reset();  // a revoke took the whole pending batch away
            pipeline_pause_ = false;
        }
        update_pause();
        if (now >= next_recommit) {
            commit(tracker_.unconfirmed(), false);
            next_recommit = now + kRecommitEvery;
        }
        if (options.once) {
            auto assigned = tracker_.assigned();
            bool all_read = !assigned.empty() && std::all_of(assigned.begin(), assigned.end(),
                                                             [&](const auto& tp) { return at_eof_.count(tp) > 0; });
            if (all_read && emit_batch(out, std::chrono::milliseconds(kPollMs)) == Emitter::Offer::Accepted &&
                dlq_->pending() == 0) {
                break;
            }
        }
    }
    if (!batch_.records.empty()) {
        log_.info("stopping with {} record(s) read but not handed on; they are read again on restart",
                  batch_.records.size());
    }
    if (auto left = dlq_->flush(kDeadLetterFlush); left > 0) {
        log_.warn("{} dead letter(s) not confirmed when stopping; their messages are read again on restart", left);
    }
    return Status::success();
}

}  // namespace vigil::plugins::kafka_source
