// SPDX-License-Identifier: Apache-2.0
#include "record_columns.hpp"

#include <cmath>

#include <fmt/core.h>

namespace vigil::plugins::pg_sink {

namespace {
constexpr std::array<std::string_view, kFieldCount> kNames = {
    "name", "url", "response_time", "status_code", "regex", "regex_check", "timestamp",
    "check_id", "agent", "ok", "error", "error_detail", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms",
    "redirects", "body_bytes", "truncated", "http_version", "remote_ip", "tls_not_after", "lag_ms",
};

void text(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
}
void null(std::string& out) { out += "\\N"; }
void number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "Infinity" : "-Infinity";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", v);
    }
}
template <typename T>
void opt_number(std::string& out, const std::optional<T>& v) {
    if (!v) {
        null(out);
    } else if constexpr (std::is_floating_point_v<T>) {
        number(out, *v);
    } else {
        fmt::format_to(std::back_inserter(out), "{}", *v);
    }
}
void opt_text(std::string& out, const std::optional<std::string>& v) { v ? text(out, *v) : null(out); }
void opt_bool(std::string& out, const std::optional<bool>& v) { v ? void(out += *v ? 't' : 'f') : null(out); }
}  // namespace

std::string_view field_name(Field f) { return kNames[static_cast<std::size_t>(f)]; }

bool field_by_name(std::string_view name, Field& out) {
    for (std::size_t i = 0; i < kFieldCount; ++i) {
        if (kNames[i] == name) {
            out = static_cast<Field>(i);
            return true;
        }
    }
    return false;
}

void append_copy_value(std::string& out, const CheckRecord& r, Field f) {
    switch (f) {
        case Field::name: return text(out, r.name);
        case Field::url: return text(out, r.url);
        case Field::response_time: return number(out, r.response_time);
        case Field::status_code: return opt_number(out, r.status_code);
        case Field::regex: return opt_text(out, r.regex);
        case Field::regex_check: return opt_bool(out, r.regex_check);
        case Field::timestamp: return text(out, format_timestamp(r.timestamp));
        case Field::check_id: return text(out, r.check_id);
        case Field::agent: return r.agent.empty() ? null(out) : text(out, r.agent);
        case Field::ok: return opt_bool(out, r.ok);
        case Field::error: return opt_text(out, r.error);
        case Field::error_detail: return opt_text(out, r.error_detail);
        case Field::dns_ms: return opt_number(out, r.dns_ms);
        case Field::connect_ms: return opt_number(out, r.connect_ms);
        case Field::tls_ms: return opt_number(out, r.tls_ms);
        case Field::ttfb_ms: return opt_number(out, r.ttfb_ms);
        case Field::redirects: return opt_number(out, r.redirects);
        case Field::body_bytes: return opt_number(out, r.body_bytes);
        case Field::truncated: return opt_bool(out, r.truncated);
        case Field::http_version: return opt_text(out, r.http_version);
        case Field::remote_ip: return opt_text(out, r.remote_ip);
        case Field::tls_not_after: return r.tls_not_after ? text(out, format_timestamp(*r.tls_not_after)) : null(out);
        case Field::lag_ms: return opt_number(out, r.lag_ms);
    }
}

bool find_nul(const CheckRecord& r, Field& which) {
    auto has = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
    auto opt = [&](const std::optional<std::string>& s) { return s && has(*s); };
    const std::pair<Field, bool> checks[] = {
        {Field::name, has(r.name)}, {Field::url, has(r.url)}, {Field::regex, opt(r.regex)},
        {Field::check_id, has(r.check_id)}, {Field::agent, has(r.agent)}, {Field::error, opt(r.error)},
        {Field::error_detail, opt(r.error_detail)}, {Field::http_version, opt(r.http_version)},
        {Field::remote_ip, opt(r.remote_ip)},
    };
    for (const auto& [f, bad] : checks) {
        if (bad) {
            which = f;
            return true;
        }
    }
    return false;
}

}  // namespace vigil::plugins::pg_sink
