// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "http_post.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"
#include "webhook_sink_config.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::webhook_sink {

/// POSTs each site event (the records of pg_events) to one URL, one request per event, in
/// order, with `Idempotency-Key: <event id>` and, with a secret, an HMAC-SHA256 signature of the
/// body. 2xx: delivered. 5xx, 408, 429 or no answer: the batch is retried (the core's backoff),
/// and the events it already delivered are not sent again. Any other 4xx: the receiver refuses
/// that event for good; it goes to the pipeline's dead-letter target with the answer, and the
/// rest go on. Refreshes (id 0: a state that lasts, not a change) are not sent.
class WebhookSink final : public Sink {
  public:
    WebhookSink(Config config, std::string instance, Logger log);

    WriteResult write(const Batch& batch) override;
    Status health() const override;

  private:
    Config config_;
    std::string instance_;
    Logger log_;
    http::Poster poster_;
    std::set<std::int64_t> delivered_;  // events of the batch being retried that got a 2xx
    mutable Mutex health_mutex_;
    std::string unhealthy_ VIGIL_GUARDED_BY(health_mutex_);
    Counter& sent_;
    Counter& refused_;
    Counter& failed_;
};

}  // namespace vigil::plugins::webhook_sink
