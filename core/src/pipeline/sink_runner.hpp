// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/backoff.hpp"
#include "pipeline/dead_letter.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

struct RetryPolicy {
    Duration initial = std::chrono::milliseconds(100);
    Duration max = std::chrono::seconds(30);
    /// 0: retry forever (the default). Otherwise, after this many failed attempts the batch's
    /// records are dead-lettered with the last error, which also resolves the batch.
    unsigned max_attempts = 0;
};

/// Drives one sink instance from a thread of its own: batches in order, one write at a time,
/// retries with backoff, exception capture, rejected records to the dead letter, timing and
/// counting. This is where the cross-cutting work of every sink lives (spdlog's base_sink role),
/// so no plugin can skip it.
class SinkRunner {
  public:
    /// Called once per batch, from the runner's thread, when the batch is resolved for this sink:
    /// true when delivered (including dead-lettered records), false when abandoned at shutdown.
    using Done = std::function<void(std::uint64_t sequence, bool delivered)>;

    SinkRunner(std::string instance, std::unique_ptr<Sink> sink, RetryPolicy retry, Batching batching,
               DeadLetter& dead_letter, Done done, std::function<double()> random);
    ~SinkRunner();

    void start();
    void enqueue(std::shared_ptr<const Batch> batch);
    /// Stops retrying and abandons queued batches (each reported not delivered); interrupts a
    /// blocking write. Called at the drain deadline.
    void abort();
    /// Finishes the queue, then stops the thread and calls Sink::stop().
    void close();

    const std::string& instance() const { return instance_; }
    /// Whether the sink can deliver, as far as is known: its last attempt did not fail, and
    /// (ABI >= 1.3) it does not report an outage it is waiting out inside write(). Updates
    /// vigil_sink_up. Thread-safe; the pipeline calls it about once a second.
    bool refresh_up();
    /// The pipeline's bound of batches in flight: merging stops there, since no more can come
    /// until these are acknowledged.
    void set_in_flight_bound(std::size_t n) { in_flight_bound_ = n; }

  private:
    void loop();
    /// Takes the next batch to write, merged with queued ones as batching_ asks; the sequences
    /// of every batch taken go to `taken`. Null when the runner is closing with nothing queued.
    std::shared_ptr<const Batch> take(std::vector<std::uint64_t>& taken);
    bool deliver(const Batch& batch);
    /// Writes dead letters, retrying with backoff while their file fails (the batch stays
    /// unacknowledged meanwhile). False if aborted first.
    bool dead_letter(const std::vector<DeadLetter::Letter>& letters);
    /// The outcome of the last attempt, for refresh_up() and vigil_sink_up.
    void set_failing(bool failing);
    bool wait_backoff(Duration d);

    std::string instance_;
    std::unique_ptr<Sink> sink_;
    RetryPolicy retry_;
    Batching batching_;
    std::size_t in_flight_bound_ = 0;
    DeadLetter& dead_letter_;
    Done done_;
    Backoff backoff_;
    Logger log_;
    Complaint complaint_;
    bool started_ = false;
    std::atomic<bool> last_failed_{false};

    Mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<const Batch>> queue_ VIGIL_GUARDED_BY(mutex_);
    bool closing_ VIGIL_GUARDED_BY(mutex_) = false;
    bool aborted_ VIGIL_GUARDED_BY(mutex_) = false;
    std::thread thread_;

    Counter& batches_ok_;
    Counter& records_ok_;
    Counter& retries_;
    Counter& rejected_;
    Counter& abandoned_;
    Histogram& write_seconds_;
    Gauge& up_;
};

}  // namespace vigil::pipeline
