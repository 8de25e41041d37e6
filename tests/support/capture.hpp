// SPDX-License-Identifier: Apache-2.0
// Running a source in-process in a test: an Emitter that keeps every record and acknowledges at
// once, and stop tokens that never stop or stop after a while.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vigil/record.hpp"
#include "vigil/source.hpp"

namespace vigil::test {

/// The last record of each site in `records`.
std::map<std::string, CheckRecord> by_name(const std::vector<CheckRecord>& records);

/// Takes every batch and acknowledges it at once.
class Capture final : public Emitter {
  public:
    bool emit(Batch b, AckFn ack) override;
    std::vector<CheckRecord> all() const;
    std::map<std::string, CheckRecord> by_name() const;  // the last record of each site

  private:
    mutable std::mutex mutex_;
    std::vector<CheckRecord> records_;
};

class NeverStop final : public StopToken {
  public:
    bool stop_requested() const override { return false; }
    bool wait_for(Duration) const override { return false; }
};

/// Stops after `after` has passed.
class StopAfter final : public StopToken {
  public:
    explicit StopAfter(Duration after) : deadline_(std::chrono::steady_clock::now() + after) {}
    bool stop_requested() const override { return std::chrono::steady_clock::now() >= deadline_; }
    bool wait_for(Duration d) const override {
        std::this_thread::sleep_for(std::min<Duration>(d, deadline_ - std::chrono::steady_clock::now()));
        return stop_requested();
    }

  private:
    std::chrono::steady_clock::time_point deadline_;
};

}  // namespace vigil::test
