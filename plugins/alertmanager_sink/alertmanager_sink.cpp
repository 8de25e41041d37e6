// SPDX-License-Identifier: Apache-2.0
#include "alertmanager_sink.hpp"

#include <chrono>

#include <fmt/core.h>
#include <fmt/format.h>

#include "alerts.hpp"
#include "vigil/redact.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::alertmanager_sink {

namespace {
Timestamp now() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

std::string endpoint(const std::string& base) {
    auto url = base;
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    return url + "/api/v2/alerts";
}
}  // namespace

AlertmanagerSink::AlertmanagerSink(Config config, std::string instance, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), log_(std::move(log)),
      alerts_(counter("vigil_alertmanager_sink_alerts_total", {{"instance", instance_}},
                      "Alerts (firing and resolved) some Alertmanager accepted")),
      failures_(counter("vigil_alertmanager_sink_post_failures_total", {{"instance", instance_}},
                        "POSTs to one Alertmanager that failed (no answer, 4xx or 5xx)")) {
    for (std::size_t i = 0; i < config_.urls.size(); ++i) {
        posters_.push_back(std::make_unique<http::Poster>(config_.http));
    }
}

AlertmanagerSink::Outcome AlertmanagerSink::post(const std::string& body) {
    Outcome out;
    bool answered_other = false;
    for (std::size_t i = 0; i < config_.urls.size(); ++i) {
        auto url = endpoint(config_.urls[i]);
        auto r = posters_[i]->post(url, body, {"Content-Type: application/json"});
        if (r.answered() && r.status / 100 == 2) {
            out.delivered = true;
            continue;
        }
        failures_.inc();
        if (r.answered() && r.status / 100 == 4) {
            if (out.refusal.empty()) {
                out.refusal = fmt::format("{} answered HTTP {}: {}", redact_url(url), r.status, r.summary());
            }
            out.failures.push_back(out.refusal);
        } else {
            answered_other = true;
            out.failures.push_back(r.answered()
                                       ? fmt::format("{} answered HTTP {}: {}", redact_url(url), r.status, r.summary())
                                       : r.error);
        }
    }
    out.refused = !out.delivered && !answered_other && !out.refusal.empty();
    return out;
}

WriteResult AlertmanagerSink::write(const Batch& batch) {
    auto t = now();
    std::vector<Rejection> rejected;
    std::vector<std::pair<std::size_t, std::vector<Alert>>> per_event;  // batch index, its alerts
    std::vector<Alert> all;
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
        const auto& r = batch.records[i];
        if (!r.event) {
            rejected.push_back({i, "not a site event: alertmanager_sink takes the records of pg_events", false});
            continue;
        }
        auto alerts = alerts_for(*r.event, config_, t);
        if (!alerts.empty()) {
            all.insert(all.end(), alerts.begin(), alerts.end());
            per_event.emplace_back(i, std::move(alerts));
        }
    }
    if (all.empty()) {
        return WriteResult::accepted_except(std::move(rejected));
    }
    auto outcome = post(to_json(all, config_.generator_url));
    bool delivered = outcome.delivered;
    if (outcome.refused) {
        // Which events does Alertmanager refuse? One request each; the good ones are delivered
        // by it (and again, harmlessly, if a later one cannot be and the batch is retried).
        delivered = true;
        for (const auto& [i, alerts] : per_event) {
            auto one = post(to_json(alerts, config_.generator_url));
            if (one.delivered) {
                alerts_.inc(alerts.size());
            } else if (one.refused) {
                log_.error("Alertmanager refuses the alerts of {}: {}", batch.records[i].origin, one.refusal);
                rejected.push_back({i, one.refusal, false});
            } else {
                outcome = std::move(one);
                delivered = false;
                break;
            }
        }
    } else if (delivered) {
        alerts_.inc(all.size());
        if (!outcome.failures.empty()) {
            log_.warn("alerts delivered, but not to every Alertmanager: {}", fmt::join(outcome.failures, "; "));
        }
    }
    Lock lock(health_mutex_);
    if (!delivered) {
        unhealthy_ = fmt::format("no Alertmanager took the alerts: {}", fmt::join(outcome.failures, "; "));
        return WriteResult::retry(unhealthy_);
    }
    unhealthy_.clear();
    return WriteResult::accepted_except(std::move(rejected));
}

Status AlertmanagerSink::health() const {
    Lock lock(health_mutex_);
    return unhealthy_.empty() ? Status::success() : Status::error(unhealthy_);
}

Status AlertmanagerSink::healthcheck() {
    // An empty list is a valid post: it reaches the API and changes nothing.
    auto outcome = post("[]");
    if (outcome.delivered) {
        return Status::success();
    }
    return Status::error(fmt::format("no Alertmanager answers: {}", fmt::join(outcome.failures, "; ")));
}

}  // namespace vigil::plugins::alertmanager_sink
