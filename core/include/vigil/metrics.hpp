// SPDX-License-Identifier: Apache-2.0
// Process-wide counters and gauges, exposed on /metrics in Prometheus text format.
// Names follow `vigil_<component>_<thing>_total`; labels `plugin`, `instance`, `error_kind`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
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

/// A distribution (check durations, write latencies) in fixed buckets, as Prometheus histograms
/// are. Lock-free; safe from any thread.
class VIGIL_API Histogram {
  public:
    /// `bounds`: the buckets' upper bounds, ascending; +Inf is implied.
    explicit Histogram(std::vector<double> bounds);
    void observe(double value) noexcept;
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Count of observations <= bounds()[i] (not cumulative across buckets); the last is +Inf.
    std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i].load(std::memory_order_relaxed); }
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

/// Seconds from 1 ms to 30 s: check durations, write and batch latencies.
VIGIL_API const std::vector<double>& latency_buckets();

/// The counter with this name and label set, created on first use. The reference stays valid
/// for the life of the process, so callers look it up once and keep it.
VIGIL_API Counter& counter(std::string_view name, const Labels& labels, std::string_view help = {});
VIGIL_API Gauge& gauge(std::string_view name, const Labels& labels, std::string_view help = {});
/// Stops exporting the gauge with this name and label set (a partition no longer ours, say)
/// until gauge() is called for it again. The reference stays valid. Since SDK ABI 5.1.
VIGIL_API void hide_gauge(std::string_view name, const Labels& labels);

/// The histogram with this name and label set, created on first use with `bounds` (later calls
/// get the first one's buckets).
VIGIL_API Histogram& histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                               std::string_view help = {});

/// Every metric in Prometheus text exposition format 0.0.4, sorted by name then labels.
VIGIL_API std::string render_prometheus();

}  // namespace vigil
