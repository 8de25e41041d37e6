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

Alert make(const SiteEvent& e, const std::string& state, const std::optional<std::string>& cause, const Config& c) {
    Alert a;
    a.labels = {{"alertname", alert_name(state)}, {"site", e.site}, {"url", e.url}, {"error", cause.value_or("")}};
    a.labels.insert(a.labels.end(), c.labels.begin(), c.labels.end());
    return a;
}

}  // namespace

std::vector<Alert> alerts_for(const SiteEvent& e, const Config& config, Timestamp now) {
    std::vector<Alert> out;
    bool change = e.id != 0 && e.from != e.to;
    if (change && !alert_name(e.from).empty()) {
        auto a = make(e, e.from, e.previous_cause, config);
        a.starts_at = e.since;
        a.ends_at = e.at;
        a.resolved = true;
        a.annotations = {{"summary", fmt::format("{} is {} again", e.site, e.to)}, {"description", e.reason}};
        out.push_back(std::move(a));
    }
    if (!alert_name(e.to).empty()) {
        auto a = make(e, e.to, e.cause, config);
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
