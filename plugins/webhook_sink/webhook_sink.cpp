// SPDX-License-Identifier: Apache-2.0
#include "webhook_sink.hpp"

#include <fmt/core.h>

#include "message.hpp"
#include "vigil/redact.hpp"
#include "vigil/text.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::webhook_sink {

namespace {
// A receiver's way of saying "later": retried like a server error, never dead-lettered.
bool retry_later(long status) { return status / 100 == 5 || status == 408 || status == 425 || status == 429; }
}  // namespace

WebhookSink::WebhookSink(Config config, std::string instance, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), log_(std::move(log)), poster_(config_.http),
      sent_(counter("vigil_webhook_sink_events_total", {{"instance", instance_}}, "Events the receiver took (2xx)")),
      refused_(counter("vigil_webhook_sink_refused_total", {{"instance", instance_}},
                       "Events the receiver refused for good (4xx), dead-lettered")),
      failed_(counter("vigil_webhook_sink_failures_total", {{"instance", instance_}},
                      "POSTs that failed and were retried (no answer, 5xx, 408, 429)")) {}

WriteResult WebhookSink::write(const Batch& batch) {
    std::vector<Rejection> rejected;
    // A webhook URL's path is often its secret (Slack's, Teams'): logs show where, not which.
    auto shown = url_origin(config_.url.reveal());
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
        const auto& r = batch.records[i];
        if (!r.event) {
            rejected.push_back({i, "not a site event: webhook_sink takes the records of pg_events", false});
            continue;
        }
        const auto& e = *r.event;
        if (e.id == 0 || delivered_.count(e.id) > 0) {
            continue;  // a refresh (no change to announce), or delivered before this retry
        }
        auto body = body_of(e, config_.format);
        std::vector<std::string> headers = {
            "Content-Type: application/json", fmt::format("Idempotency-Key: {}", e.id),
            // The event's words come from a record anyone may have
            // written: escaped, so CR LF cannot start a header.
            escape_controls(fmt::format("X-Vigil-Event: {} {} -> {}", e.site, e.from, e.to))};
        if (!config_.secret.empty()) {
            headers.push_back("X-Vigil-Signature: " + signature(config_.secret.reveal(), body));
        }
        for (const auto& [name, value] : config_.headers) {
            headers.push_back(name + ": " + value);
        }
        auto answer = poster_.post(config_.url.reveal(), body, headers);
        if (answer.answered() && answer.status / 100 == 2) {
            delivered_.insert(e.id);
            sent_.inc();
            continue;
        }
        if (!answer.answered() || retry_later(answer.status)) {
            failed_.inc();
            auto why = answer.answered() ? fmt::format("webhook {} answered HTTP {} for event {}: {}", shown,
                                                       answer.status, e.id, answer.summary())
                                         : fmt::format("webhook {} for event {}: {}", shown, e.id, answer.error);
            Lock lock(health_mutex_);
            unhealthy_ = why;
            return WriteResult::retry(why);
        }
        refused_.inc();
        auto why =
            fmt::format("webhook {} refused event {} with HTTP {}: {}", shown, e.id, answer.status, answer.summary());
        log_.error("{} ({})", why, r.origin);
        rejected.push_back({i, why, false});
    }
    delivered_.clear();
    {
        Lock lock(health_mutex_);
        unhealthy_.clear();
    }
    return WriteResult::accepted_except(std::move(rejected));
}

Status WebhookSink::health() const {
    Lock lock(health_mutex_);
    return unhealthy_.empty() ? Status::success() : Status::error(unhealthy_);
}

}  // namespace vigil::plugins::webhook_sink
