// SPDX-License-Identifier: Apache-2.0
#include <rapidjson/stringbuffer.h>

#include <cmath>
#include <rapidjson/writer.h>

#include "render.hpp"

namespace vigil::status_page {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void opt_str(Writer& w, const char* key, const std::optional<std::string>& value) {
    w.Key(key);
    if (value) {
        w.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
    } else {
        w.Null();
    }
}
void opt_num(Writer& w, const char* key, const std::optional<double>& value) {
    w.Key(key);
    if (value && std::isfinite(*value)) {
        w.Double(*value);
    } else {
        w.Null();
    }
}

void summary(Writer& w, const View& v, const SiteSummary& s) {
    str(w, "name", s.name);
    if (!v.public_view) {
        str(w, "url", s.url);
    }
    str(w, "state", s.state);
    str(w, "kind", s.kind);
    opt_str(w, "group", s.group);
    str(w, "since", s.since);
    opt_str(w, "cause", s.cause);
    opt_str(w, "last_check", s.last_check);
    if (!v.public_view) {
        opt_str(w, "last_error", s.last_error);
    }
    w.Key("locations");
    w.StartArray();
    for (const auto& l : s.locations) {
        w.String(l.data(), static_cast<rapidjson::SizeType>(l.size()));
    }
    w.EndArray();
}

}  // namespace

std::string sites_json(const View& v, const SiteQuery& q, const SiteList& list) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("total");
    w.Int64(list.total);
    w.Key("page");
    w.Int(q.page);
    w.Key("per_page");
    w.Int(q.per_page);
    w.Key("counts");
    w.StartObject();
    const char* states[] = {"up", "down", "degraded"};
    for (int i = 0; i < 3; ++i) {
        w.Key(states[i]);
        w.Int64(list.counts[i]);
    }
    w.EndObject();
    w.Key("groups");
    w.StartArray();
    for (const auto& g : list.groups) {
        w.String(g.data(), static_cast<rapidjson::SizeType>(g.size()));
    }
    w.EndArray();
    w.Key("sites");
    w.StartArray();
    for (const auto& s : list.sites) {
        w.StartObject();
        summary(w, v, s);
        opt_num(w, "uptime_24h", s.uptime_24h);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string site_json(const View& v, const SiteDetail& d) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    summary(w, v, d.summary);
    const std::pair<const char*, const Window*> windows[] = {
        {"24h", &d.h24}, {"7d", &d.d7}, {"30d", &d.d30}, {"90d", &d.d90}};
    w.Key("uptime");
    w.StartObject();
    for (const auto& [key, win] : windows) {
        opt_num(w, key, win->uptime);
    }
    w.EndObject();
    w.Key("checks");
    w.StartObject();
    for (const auto& [key, win] : windows) {
        w.Key(key);
        w.Int64(win->checks);
    }
    w.EndObject();
    w.Key("response_time_ms");
    w.StartObject();
    for (const auto& [key, win] : {windows[0], windows[1]}) {
        w.Key(key);
        w.StartObject();
        opt_num(w, "p50", win->p50);
        opt_num(w, "p95", win->p95);
        opt_num(w, "mean", win->avg);
        w.EndObject();
    }
    w.EndObject();
    opt_str(w, "tls_not_after", d.tls_not_after);
    w.Key("last_result");
    w.StartObject();
    opt_str(w, "rcode", d.last_result.rcode);
    opt_str(w, "answers", d.last_result.answers);
    opt_num(w, "packet_loss", d.last_result.packet_loss);
    opt_num(w, "rtt_avg_ms", d.last_result.rtt_avg_ms);
    w.EndObject();
    w.Key("days");
    w.StartArray();
    for (const auto& day : d.days) {
        w.StartObject();
        str(w, "date", day.date);
        w.Key("checks");
        w.Int64(day.checks);
        w.Key("ok_checks");
        w.Int64(day.ok_checks);
        w.EndObject();
    }
    w.EndArray();
    w.Key("incidents");
    w.StartArray();
    for (const auto& i : d.incidents) {
        w.StartObject();
        str(w, "at", i.at);
        str(w, "from", i.from);
        str(w, "to", i.to);
        opt_str(w, "cause", i.cause);
        opt_str(w, "location", i.location);
        if (!v.public_view) {
            str(w, "reason", i.reason);
        }
        w.EndObject();
    }
    w.EndArray();
    w.Key("location_states");
    w.StartArray();
    for (const auto& l : d.locations) {
        w.StartObject();
        str(w, "location", l.location);
        str(w, "state", l.state);
        str(w, "since", l.since);
        opt_str(w, "cause", l.cause);
        w.Key("voting");
        w.Bool(l.voting);
        opt_str(w, "last_check", l.last_check);
        if (!v.public_view) {
            opt_str(w, "last_error", l.last_error);
        }
        opt_num(w, "uptime_24h", l.uptime_24h);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string error_json(const std::string& message) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    str(w, "error", message);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace vigil::status_page
