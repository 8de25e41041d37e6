// SPDX-License-Identifier: Apache-2.0
// Finished checks gathered into batches for the outbox: a batch goes when it is full or when its
// first record has waited batch_delay, so a quiet instance still delivers promptly.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "outbox.hpp"
#include "vigil/batch.hpp"
#include "vigil/record.hpp"

namespace vigil::checks {

/// Not thread-safe: the loop's thread owns it.
class RecordBatcher {
  public:
    using Clock = std::chrono::steady_clock;

    void set_limits(std::size_t batch_size, Duration batch_delay) {
        batch_size_ = batch_size;
        batch_delay_ = batch_delay;
    }
    /// Adds a record; a full batch goes to `outbox` at once.
    void add(CheckRecord r, Outbox& outbox) {
        if (pending_.empty()) {
            since_ = Clock::now();
        }
        pending_.push_back(Record{std::move(r), {}});
        if (pending_.size() >= batch_size_) {
            flush(outbox, true);
        }
    }
    /// Hands the batch on if it waited batch_delay (or at once with `force`).
    void flush(Outbox& outbox, bool force) {
        if (pending_.empty() || (!force && Clock::now() - since_ < batch_delay_)) {
            return;
        }
        Batch b;
        b.records = std::move(pending_);
        pending_ = {};
        outbox.push(std::move(b));
    }
    /// How long until the waiting batch is due; nullopt with nothing waiting.
    std::optional<Clock::duration> due_in() const {
        if (pending_.empty()) {
            return std::nullopt;
        }
        return since_ + batch_delay_ - Clock::now();
    }

  private:
    std::size_t batch_size_ = 500;
    Duration batch_delay_ = std::chrono::milliseconds(50);
    std::vector<Record> pending_;
    Clock::time_point since_{};
};

}  // namespace vigil::checks
