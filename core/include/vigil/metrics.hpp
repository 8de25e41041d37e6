// SPDX-License-Identifier: Apache-2.0
// Process-wide counters and gauges, exposed on /metrics in Prometheus text format.
// Names follow `vigil_<component>_<thing>_total`; labels `plugin`, `instance`, `error_kind`.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/visibility.hpp"

namespace vigil {

using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Lock-free; safe from any thread.
class VIGIL_API Counter {
  public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (queue depth, consumer lag). Safe from any thread.
class VIGIL_API Gauge {
  public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

/// The counter with this name and label set, created on first use. The reference stays valid
/// for the life of the process, so callers look it up once and keep it.
VIGIL_API Counter& counter(std::string_view name, const Labels& labels, std::string_view help = {});
VIGIL_API Gauge& gauge(std::string_view name, const Labels& labels, std::string_view help = {});

/// Every metric in Prometheus text exposition format 0.0.4, sorted by name then labels.
VIGIL_API std::string render_prometheus();

}  // namespace vigil
