// SPDX-License-Identifier: Apache-2.0
#include "alerts.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/core.h>

namespace vigil::plugins::alertmanager_sink {

std::string alert_name(const std::string& state) {
    if (state == "down") {
        return "VigilSiteDown";
    }
    if (state == "degraded") {
        return "VigilSiteDegraded";
    }
    return "";
}

namespace {

std::vector<std::string> names(const std::vector<LocationNote>& notes) {
    std::vector<std::string> out;
    for (const auto& n : notes) {
        out.push_back(n.location);
    }
    return out;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ",") + n;
    }
    return out;
}

// "us: connect: Connection refused; ap: timeout", or "" when no location has a name (the checks
// of a deployment without locations: the description says it all).
std::string location_errors(const std::vector<LocationNote>& notes) {
    std::string out;
    bool named = false;
    for (const auto& n : notes) {
        named = named || !n.location.empty();
        out += fmt::format("{}{}: {}{}", out.empty() ? "" : "; ", n.location.empty() ? "(no location)" : n.location,
                           n.cause.value_or(n.state), n.detail && !n.detail->empty() ? ": " + *n.detail : "");
    }
    return named ? out : "";
}

Alert make(const SiteEvent& e, const std::string& state, const std::optional<std::string>& cause,
           const std::vector<std::string>& locations, const Config& c) {
    Alert a;
    a.labels = {{"alertname", alert_name(state)}, {"site", e.site}, {"url", e.url}, {"error", cause.value_or("")}};
    // An empty label is no label to Alertmanager: a deployment without locations keeps its alerts.
    if (auto list = joined(locations); !list.empty()) {
        a.labels.emplace_back("locations", list);
    }
    a.labels.insert(a.labels.end(), c.labels.begin(), c.labels.end());
    return a;
}

}  // namespace

std::vector<Alert> alerts_for(const SiteEvent& e, const Config& config, Timestamp now) {
    std::vector<Alert> out;
    // A change of state, or of the locations behind it (the alert's labels name them): the alert
    // fired under the old labels is resolved and one under the new fired.
    auto now_at = names(e.locations);
    bool change = e.id != 0 && (e.from != e.to || e.previous_locations != now_at);
    if (change && !alert_name(e.from).empty()) {
        auto a = make(e, e.from, e.previous_cause, e.previous_locations, config);
        a.starts_at = e.since;
        a.ends_at = e.at;
        a.resolved = true;
        a.annotations = {{"summary", e.from == e.to ? fmt::format("{} is {} from other locations", e.site, e.to)
                                                    : fmt::format("{} is {} again", e.site, e.to)},
                         {"description", e.reason}};
        out.push_back(std::move(a));
    }
    if (!alert_name(e.to).empty()) {
        auto a = make(e, e.to, e.cause, now_at, config);
        // A change starts the alert at the check that made it; a refresh keeps the start of the
        // state it repeats, so the alert Alertmanager holds keeps its first startsAt.
        a.starts_at = change ? e.at : e.since;
        a.ends_at = now + std::chrono::duration_cast<std::chrono::microseconds>(config.ttl);
        a.annotations = {{"summary", fmt::format("{} is {}: {}", e.site, e.to, e.cause.value_or("unknown"))},
                         {"description", e.reason},
                         {"since", format_timestamp(a.starts_at)}};
        if (e.error_detail) {
            a.annotations.emplace_back("error_detail", *e.error_detail);
        }
        if (auto errors = location_errors(e.locations); !errors.empty()) {
            a.annotations.emplace_back("locations", errors);
        }
        if (!e.check_id.empty()) {
            a.annotations.emplace_back("check_id", e.check_id);
        }
        out.push_back(std::move(a));
    }
    for (auto& a : out) {
        a.annotations.insert(a.annotations.end(), config.annotations.begin(), config.annotations.end());
    }
    return out;
}

std::string to_json(const std::vector<Alert>& alerts, const std::string& generator_url) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
    auto map = [&](const char* key, const std::vector<std::pair<std::string, std::string>>& kv) {
        w.Key(key);
        w.StartObject();
        for (const auto& [k, v] : kv) {
            str(k);
            str(v);
        }
        w.EndObject();
    };
    w.StartArray();
    for (const auto& a : alerts) {
        w.StartObject();
        map("labels", a.labels);
        map("annotations", a.annotations);
        w.Key("startsAt");
        str(format_timestamp(a.starts_at));
        w.Key("endsAt");
        str(format_timestamp(a.ends_at));
        if (!generator_url.empty()) {
            w.Key("generatorURL");
            str(generator_url);
        }
        w.EndObject();
    }
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace vigil::plugins::alertmanager_sink
