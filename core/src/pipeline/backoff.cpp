// SPDX-License-Identifier: Apache-2.0
#include "pipeline/backoff.hpp"
#include "vigil/sync.hpp"

#include <algorithm>
#include <mutex>
#include <random>

namespace vigil::pipeline {

Backoff::Backoff(Duration initial, Duration max, std::function<double()> random)
    : initial_(initial), max_(std::max(initial, max)), random_(std::move(random)) {}

Duration Backoff::next() {
    // Doubling stops once the cap is reached, so the shift never overflows.
    Duration d = initial_;
    for (unsigned i = 0; i < attempt_ && d < max_; ++i) {
        d *= 2;
    }
    d = std::min(d, max_);
    ++attempt_;
    auto half = d / 2;
    auto jitter = Duration(static_cast<Duration::rep>(static_cast<double>((d - half).count()) * random_()));
    return half + jitter;
}

std::function<double()> system_random() {
    struct State {
        Mutex mutex;
        std::mt19937_64 engine{std::random_device{}()};
        std::uniform_real_distribution<double> dist{0.0, 1.0};
    };
    auto state = std::make_shared<State>();
    return [state] {
        Lock lock(state->mutex);
        return state->dist(state->engine);
    };
}

}  // namespace vigil::pipeline
