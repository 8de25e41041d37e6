// SPDX-License-Identifier: Apache-2.0
#include "outbox.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

// Acknowledgement callbacks, which the pipeline may call after run() returned, capture only
// process-lifetime counters.
Outbox::Outbox(Emitter& out, const Labels& labels, Logger log)
    : out_(out), log_(std::move(log)),
      dropped_(counter("vigil_http_check_dropped_results_total", labels,
                       "Finished checks the pipeline refused because it was stopping")),
      delivered_(counter("vigil_http_check_delivered_results_total", labels, "Check results every sink accepted")) {
    thread_ = std::thread([this] { loop(); });
}

Outbox::~Outbox() { close(); }

void Outbox::push(Batch b) {
    {
        Lock lock(mutex_);
        queue_.push_back(std::move(b));
    }
    cv_.notify_all();
}

bool Outbox::full() {
    Lock lock(mutex_);
    return queue_.size() >= kCapacity;
}

void Outbox::close() { stop_and_join(mutex_, &closing_, cv_, thread_); }

void Outbox::loop() {
    bool refused = false;
    for (;;) {
        Batch b;
        {
            Lock lock(mutex_);
            cv_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return !queue_.empty() || closing_; });
            if (queue_.empty()) {
                return;
            }
            b = std::move(queue_.front());
            queue_.pop_front();
        }
        std::size_t n = b.records.size();
        if (refused) {
            dropped_.inc(n);
            continue;
        }
        Counter& delivered = delivered_;
        Counter& dropped = dropped_;
        if (!out_.emit(std::move(b), [&delivered, &dropped, n](AckStatus s) {
                (s == AckStatus::Delivered ? delivered : dropped).inc(n);
            })) {
            refused = true;
            dropped_.inc(n);
            log_.info("the pipeline is stopping: {} finished checks were not handed on", n);
        }
    }
}

}  // namespace vigil::plugins::http_check
