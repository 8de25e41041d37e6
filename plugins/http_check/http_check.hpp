// SPDX-License-Identifier: Apache-2.0
// The http_check source: one thread drives every check through libcurl's multi interface on
// epoll; a second thread hands finished batches to the pipeline so backpressure never stalls
// the timing of checks in flight.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "failure_digest.hpp"
#include "http_check_config.hpp"
#include "schedule.hpp"
#include "transfer.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"

namespace vigil::plugins::http_check {

class HttpCheck final : public Source {
  public:
    HttpCheck(Config config, std::string instance, std::string agent, Logger log);
    ~HttpCheck() override;

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override;
    bool supports_once() const override { return true; }
    bool supports_reload() const override { return true; }
    /// Validates the new options and hands them to the loop, which applies them between events:
    /// new sites start, removed sites stop, unchanged sites keep their schedule.
    bool reload(const ConfigNode& config, Diagnostics& diags) override;

    /// Which worker checks a site: stable, so a reload never moves a site between workers.
    static std::size_t worker_of(const std::string& name, std::size_t workers);

  private:
    class Worker;
    friend class Worker;
    void offer(const Config& c);  // hands each worker its share; reload_mutex_ held

    Config config_;
    std::string instance_;
    std::string agent_;
    Logger log_;
    std::mutex reload_mutex_;                       // guards config_ and workers_
    std::vector<std::unique_ptr<Worker>> workers_;  // alive during run()
    std::atomic<std::int64_t> in_flight_{0};        // checks in flight across the workers
    FailureDigest digest_;                          // the workers' failed checks, summarised
};

/// A UUIDv7 (RFC 9562): time-ordered, so ids sort by check start, and unique across agents.
std::string make_check_id(Timestamp t, std::mt19937_64& rng);
/// A generator whose whole state comes from std::random_device, for make_check_id.
std::mt19937_64 seeded_rng();

}  // namespace vigil::plugins::http_check
