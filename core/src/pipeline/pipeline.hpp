// SPDX-License-Identifier: Apache-2.0
// One source to one or more sinks, with a bounded number of batches in flight, acknowledgements
// in order once every sink has durably accepted a batch, and a drain with a deadline on stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/ack_tracker.hpp"
#include "pipeline/buffer/buffer_options.hpp"
#include "pipeline/dead_letter.hpp"
#include "pipeline/sink_runner.hpp"
#include "vigil/log.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

namespace buffer {
class Buffer;
}

struct SinkSlot {
    std::string instance;
    std::unique_ptr<Sink> sink;
    RetryPolicy retry;
};

struct PipelineOptions {
    std::string name = "pipeline";
    std::size_t max_in_flight = 8;
    Duration drain_timeout = std::chrono::seconds(30);
    DeadLetterOptions dead_letter;  // no file: dead letters go to the log
    BufferOptions buffer;           // memory (the default) or disk
    bool once = false;
    std::function<double()> random;  // for backoff jitter; system_random() if empty
};

struct RunResult {
    bool ok = true;     // false: the source failed, or something was not delivered
    std::string error;  // the source's failure, if any
    std::uint64_t batches_delivered = 0;
    std::uint64_t records_delivered = 0;
    std::uint64_t batches_undelivered = 0;
    std::uint64_t records_undelivered = 0;
    std::uint64_t records_buffered = 0;  // disk buffer: left stored for the next start
    std::uint64_t records_dropped = 0;   // disk buffer: dropped when full (drop_oldest), this run
};

class Pipeline final : public Emitter {
  public:
    Pipeline(PipelineOptions options, std::string source_instance, Source& source, std::vector<SinkSlot> sinks);
    ~Pipeline() override;

    /// Runs the source on a thread of its own until it returns (--once, or a failure) or
    /// request_stop() is called, then drains in-flight batches for up to drain_timeout, stops
    /// the sinks and returns. Call once.
    RunResult run();
    /// Thread-safe; idempotent. Stops the source; emit() refuses new batches from now on.
    void request_stop();

    bool emit(Batch batch, AckFn on_ack) override;
    Offer offer(Batch& batch, AckFn& on_ack, Duration timeout) override;

    std::size_t in_flight() const;
    /// SIGHUP: the dead-letter file is reopened on its next write (after logrotate moved it).
    void reopen_dead_letters() { dead_letter_.reopen(); }

  private:
    // Takes an admitted batch: sequence, counters, ack tracking, hand-off to the buffer. Returns
    // the batch's sequence when it is resolved at once (no sink): the caller resolves it after
    // letting go of the lock.
    std::optional<std::uint64_t> accept(Batch batch, AckFn on_ack) VIGIL_REQUIRES(mutex_);
    bool has_room() const VIGIL_REQUIRES(mutex_) { return stopping_ || in_flight_ < options_.max_in_flight; }
    struct Token;
    void on_sink_done(std::uint64_t sequence, bool delivered);
    void watch_sinks();

    PipelineOptions options_;
    std::string source_instance_;
    Source& source_;
    DeadLetter dead_letter_;
    std::vector<std::unique_ptr<SinkRunner>> runners_;
    std::unique_ptr<buffer::Buffer> buffer_;  // memory or disk
    std::unique_ptr<Token> token_;
    Logger log_;

    mutable Mutex mutex_;
    std::condition_variable space_;    // in_flight_ dropped below the bound, or stopping
    std::condition_variable drained_;  // in_flight_ reached zero
    std::size_t in_flight_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::uint64_t next_sequence_ VIGIL_GUARDED_BY(mutex_) = 1;
    bool stopping_ VIGIL_GUARDED_BY(mutex_) = false;
    struct Pending {
        std::size_t remaining = 0;
        bool delivered = true;
    };
    std::map<std::uint64_t, Pending> pending_ VIGIL_GUARDED_BY(mutex_);  // per batch: resolutions to come

    Mutex dispatch_;  // serialises ack dispatch so callbacks run in sequence order
    AckTracker tracker_;
    RunResult result_;
    Counter& emitted_;
    Gauge& in_flight_gauge_;
    Counter& records_emitted_;
    Counter& records_delivered_;
    Counter& records_undelivered_;
};

}  // namespace vigil::pipeline
