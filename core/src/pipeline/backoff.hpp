// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

#include "vigil/config.hpp"

namespace vigil::pipeline {

/// Capped exponential backoff with "equal jitter": the n-th delay is uniformly drawn from
/// [d/2, d] where d = min(max, initial * 2^n). Half the delay is guaranteed so retries do not
/// hammer a recovering service; the random half keeps many agents from retrying in lockstep.
class Backoff {
  public:
    /// `random` returns a uniform value in [0, 1); injected so tests are deterministic.
    Backoff(Duration initial, Duration max, std::function<double()> random);
    Duration next();
    void reset() { attempt_ = 0; }
    unsigned attempts() const { return attempt_; }

  private:
    Duration initial_, max_;
    std::function<double()> random_;
    unsigned attempt_ = 0;
};

/// A thread-safe uniform [0, 1) generator seeded from std::random_device.
std::function<double()> system_random();

}  // namespace vigil::pipeline
