// SPDX-License-Identifier: Apache-2.0
// From site events to Alertmanager's alerts (API v2, postableAlerts). Pure, so unit-tested.
//
// An alert's identity is its label set: alertname (VigilSiteDown or VigilSiteDegraded), site,
// url, error (what the state is about: the error kind that took the site down, partial, slow or
// certificate), locations (the locations behind it, sorted, comma-joined; absent without named
// locations), plus the configured labels. A change into down or degraded fires one (endsAt =
// now + ttl); a change out of one, or of its locations, resolves it (endsAt = the change's time)
// under the labels it fired with (the event's previous_cause and previous_locations), so the two
// meet in Alertmanager. A refresh (id 0)
// fires the current one again, which is how Alertmanager expects a firing alert to be kept.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "alertmanager_sink_config.hpp"
#include "vigil/record.hpp"

namespace vigil::plugins::alertmanager_sink {

struct Alert {
    std::vector<std::pair<std::string, std::string>> labels;  // alertname first
    std::vector<std::pair<std::string, std::string>> annotations;
    Timestamp starts_at{};
    Timestamp ends_at{};
    bool resolved = false;
};

/// The alerts one event posts: none (up -> up cannot happen), one, or two (down -> degraded
/// resolves one and fires the other).
std::vector<Alert> alerts_for(const SiteEvent& event, const Config& config, Timestamp now);

/// A JSON array of postable alerts.
std::string to_json(const std::vector<Alert>& alerts, const std::string& generator_url);

/// "VigilSiteDown" for down, "VigilSiteDegraded" for degraded, "" otherwise.
std::string alert_name(const std::string& state);

}  // namespace vigil::plugins::alertmanager_sink
