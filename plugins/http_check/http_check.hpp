// SPDX-License-Identifier: Apache-2.0
// The http_check source. `workers` threads (worker.hpp) each drive their share of the sites
// through libcurl's multi interface on an epoll set of their own; sites are hashed to workers by
// name, so a reload never moves one. One more thread (outbox.hpp) hands finished batches to the
// pipeline, so backpressure never stalls the timing of checks in flight.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http_check_config.hpp"
#include "vigil/log.hpp"
#include "sites_topic.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

class Worker;
struct WorkerShared;

class HttpCheck final : public Source {
  public:
    HttpCheck(Config config, std::string instance, std::string agent, Logger log);
    ~HttpCheck() override;

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override;
    bool supports_once() const override { return true; }
    bool supports_reload() const override { return true; }
    /// With sites_topic: the brokers answer and the topic exists (--check-config --with-environment).
    Status healthcheck() override;
    /// Validates the new options and hands them to the loop, which applies them between events:
    /// new sites start, removed sites stop, unchanged sites keep their schedule.
    bool reload(const ConfigNode& config, Diagnostics& diags) override;

    /// Which worker checks a site: stable, so a reload never moves a site between workers.
    static std::size_t worker_of(const std::string& name, std::size_t workers);

  private:
    void offer(const Config& c) VIGIL_REQUIRES(reload_mutex_);  // hands each worker its share
    /// From the sites topic: the whole set of sites; with `wait`, returns once every running
    /// worker has applied it (2 s at most).
    void publish_sites(std::vector<std::shared_ptr<const Site>> sites, bool wait);

    Config config_;
    std::unique_ptr<WorkerShared> shared_;  // instance, agent, log, in-flight count, digest
    Logger& log_;                           // shared_->log
    Mutex reload_mutex_;                    // guards config_ and workers_
    std::vector<std::unique_ptr<Worker>> workers_ VIGIL_GUARDED_BY(reload_mutex_);  // alive during run()
    std::vector<std::uint64_t> offered_ VIGIL_GUARDED_BY(reload_mutex_);            // each worker's last offer number
    bool running_ VIGIL_GUARDED_BY(reload_mutex_) = false;                          // workers_ are running their loops
    Mutex topic_mutex_;  // guards sites_topic_ (not its calls back into offer)
    std::unique_ptr<checks::SitesTopic<Site>> sites_topic_
        VIGIL_GUARDED_BY(topic_mutex_);  // with sites_topic: during run()
};

}  // namespace vigil::plugins::http_check
