// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alertmanager_sink_config.hpp"
#include "http_post.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::alertmanager_sink {

/// Posts the alerts of each batch of site events to every configured Alertmanager (API v2) in
/// one request each. A batch is accepted when at least one Alertmanager took it: a cluster
/// gossips alerts to its other members, which is why Prometheus needs only one of them too.
/// No answer (or 5xx) from any: retried. 4xx from every one that answered: the alerts are
/// posted one event at a time to find which are refused, and those are dead-lettered with
/// Alertmanager's reason; the rest are accepted.
class AlertmanagerSink final : public Sink {
  public:
    AlertmanagerSink(Config config, std::string instance, Logger log);

    WriteResult write(const Batch& batch) override;
    Status healthcheck() override;
    Status health() const override;

  private:
    struct Outcome {
        bool delivered = false;             // some Alertmanager answered 2xx
        bool refused = false;               // every answer was 4xx (and there was one)
        std::string refusal;                // the first 4xx's status and body
        std::vector<std::string> failures;  // per URL, for the retry message
    };
    Outcome post(const std::string& body);

    Config config_;
    std::string instance_;
    Logger log_;
    std::vector<std::unique_ptr<http::Poster>> posters_;  // one per URL: its own keep-alive connection
    mutable Mutex health_mutex_;
    std::string unhealthy_ VIGIL_GUARDED_BY(health_mutex_);  // why the last write was not delivered; empty when it was
    Counter& alerts_;
    Counter& failures_;
};

}  // namespace vigil::plugins::alertmanager_sink
