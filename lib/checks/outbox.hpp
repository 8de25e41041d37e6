// SPDX-License-Identifier: Apache-2.0
// Finished batches on their way to the pipeline: workers push, one thread emits. emit() may
// block on backpressure; only this thread waits, never a worker with checks in flight.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>

#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

class Outbox {
  public:
    /// Batches waiting for the pipeline before workers stop starting checks.
    static constexpr std::size_t kCapacity = 4;

    /// Counts into vigil_<plugin>_delivered_results_total and _dropped_results_total.
    Outbox(Emitter& out, std::string_view plugin, const Labels& labels, Logger log);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    void push(Batch b);
    /// kCapacity batches wait: the pipeline is behind.
    bool full();
    /// Emits what is queued, then joins the thread.
    void close();

  private:
    void loop();

    Emitter& out_;
    Logger log_;
    Counter& dropped_;
    Counter& delivered_;
    Mutex mutex_;
    std::condition_variable cv_;
    std::deque<Batch> queue_ VIGIL_GUARDED_BY(mutex_);
    bool closing_ VIGIL_GUARDED_BY(mutex_) = false;
    std::thread thread_;
};

}  // namespace vigil::checks
