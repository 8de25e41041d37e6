// SPDX-License-Identifier: Apache-2.0
#include "outbox.hpp"

#include <fmt/core.h>

#include "vigil/sync.hpp"

namespace vigil::checks {

// Acknowledgement callbacks, which the pipeline may call after run() returned, capture only
// process-lifetime counters.
Outbox::Outbox(Emitter& out, std::string_view plugin, const Labels& labels, Logger log)
    : out_(out), log_(std::move(log)),
      dropped_(counter(fmt::format("vigil_{}_dropped_results_total", plugin), labels,
                       "Finished checks the pipeline refused because it was stopping")),
      delivered_(counter(fmt::format("vigil_{}_delivered_results_total", plugin), labels,
                         "Check results every sink accepted")) {
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

}  // namespace vigil::checks
