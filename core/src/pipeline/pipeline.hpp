// SPDX-License-Identifier: Apache-2.0
// One or more sources to one or more sinks: each source with its own bound of batches in flight
// and its own acknowledgements, in its order, once every sink has durably accepted a batch; the
// sinks and the buffer are shared; a drain with a deadline on stop.
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

struct SourceSlot {
    std::string instance;
    Source* source = nullptr;
};

struct PipelineOptions {
    std::string name = "pipeline";
    std::size_t max_in_flight = 8;  // per source
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

class Pipeline final {
  public:
    Pipeline(PipelineOptions options, std::vector<SourceSlot> sources, std::vector<SinkSlot> sinks);
    /// One source: the common case.
    Pipeline(PipelineOptions options, std::string source_instance, Source& source, std::vector<SinkSlot> sinks);
    ~Pipeline();

    /// Runs each source on a thread of its own until every one returns (--once), one fails, or
    /// request_stop() is called; then drains in-flight batches for up to drain_timeout, stops
    /// the sinks and returns. Call once.
    RunResult run();
    /// Thread-safe; idempotent. Stops the sources; their emitters refuse new batches from now on.
    void request_stop();

    /// Batches emitted and not yet acknowledged, of every source.
    std::size_t in_flight() const;
    /// SIGHUP: the dead-letter file is reopened on its next write (after logrotate moved it).
    void reopen_dead_letters() { dead_letter_.reopen(); }

  private:
    class Feed;  // one source's emitter: its bound, its acknowledgements, its counters
    // Takes an admitted batch: sequence, counters, ack tracking, hand-off to the buffer. Returns
    // the batch's sequence when it is resolved at once (no sink): the caller resolves it after
    // letting go of the lock.
    std::optional<std::uint64_t> accept(Feed& feed, Batch batch, AckFn on_ack) VIGIL_REQUIRES(mutex_);
    bool has_room(const Feed& feed) const VIGIL_REQUIRES(mutex_);
    bool emit(Feed& feed, Batch batch, AckFn on_ack);
    Emitter::Offer offer(Feed& feed, Batch& batch, AckFn& on_ack, Duration timeout);
    struct Token;
    void on_sink_done(std::uint64_t sequence, bool delivered);
    void watch_sinks();
    void run_sources();

    PipelineOptions options_;
    std::vector<std::unique_ptr<Feed>> feeds_;
    DeadLetter dead_letter_;
    std::vector<std::unique_ptr<SinkRunner>> runners_;
    std::unique_ptr<buffer::Buffer> buffer_;  // memory or disk
    std::unique_ptr<Token> token_;
    Logger log_;

    mutable Mutex mutex_;
    std::condition_variable space_;                       // in_flight_ dropped below the bound, or stopping
    std::condition_variable drained_;                     // in_flight_ reached zero
    std::size_t in_flight_ VIGIL_GUARDED_BY(mutex_) = 0;  // of every source
    std::vector<std::size_t> feed_in_flight_ VIGIL_GUARDED_BY(mutex_);  // per source, by Feed::index
    std::uint64_t next_sequence_ VIGIL_GUARDED_BY(mutex_) = 1;
    bool stopping_ VIGIL_GUARDED_BY(mutex_) = false;
    struct Pending {
        std::size_t remaining = 0;
        bool delivered = true;
        Feed* feed = nullptr;
    };
    std::map<std::uint64_t, Pending> pending_ VIGIL_GUARDED_BY(mutex_);  // per batch: resolutions to come

    Mutex results_;  // the totals, added to by each source's acknowledgements
    RunResult result_ VIGIL_GUARDED_BY(results_);
    Counter& emitted_;
    Gauge& in_flight_gauge_;
};

}  // namespace vigil::pipeline
