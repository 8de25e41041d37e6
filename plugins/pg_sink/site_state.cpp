// SPDX-License-Identifier: Apache-2.0
#include "site_state.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>

#include <fmt/core.h>

namespace vigil::plugins::pg_sink {

int Quorum::needed(int voting) const {
    switch (kind) {
        case Kind::Majority: return voting / 2 + 1;
        case Kind::All: return std::max(voting, 1);
        case Kind::Any: return 1;
        case Kind::Count: return std::max(1, std::min(count, voting));
    }
    return 1;
}

std::string Quorum::to_string() const {
    switch (kind) {
        case Kind::Majority: return "majority";
        case Kind::All: return "all";
        case Kind::Any: return "any";
        case Kind::Count: return std::to_string(count);
    }
    return "majority";
}

std::optional<Quorum> Quorum::parse(std::string_view text) {
    for (auto k : {Kind::Majority, Kind::All, Kind::Any}) {
        if (Quorum{k}.to_string() == text) {
            return Quorum{k};
        }
    }
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
        return std::nullopt;
    }
    return Quorum{Kind::Count, n};
}

const StateRules& StateConfig::for_site(const std::string& site) const {
    for (const auto& s : sites) {
        if (fnmatch(s.match.c_str(), site.c_str(), 0) == 0) {
            return s.rules;
        }
    }
    return defaults;
}

std::string_view to_string(Health health) {
    switch (health) {
        case Health::Up: return "up";
        case Health::Down: return "down";
        case Health::Degraded: return "degraded";
    }
    return "up";
}

std::optional<Health> health_from_string(std::string_view text) {
    for (auto h : {Health::Up, Health::Down, Health::Degraded}) {
        if (to_string(h) == text) {
            return h;
        }
    }
    return std::nullopt;
}

Verdict judge(const CheckRecord& check, const StateRules& rules) {
    Verdict v;
    // A record of the original seven fields has no `ok` and no `error`: read its status code
    // and regex result as the original consumer would have.
    if (check.ok) {
        v.failed = !*check.ok;
    } else {
        v.failed = check.error.has_value() || !check.status_code || *check.status_code >= 400 ||
                   check.regex_check == std::optional<bool>(false);
    }
    if (v.failed) {
        v.cause = check.error                                                                   ? *check.error
                  : !check.status_code                                                          ? "connect"
                  : check.regex_check == std::optional<bool>(false) && *check.status_code < 400 ? "regex"
                                                                                                : "http";
        return v;
    }
    v.slow = rules.slow_ms > 0 && check.response_time > rules.slow_ms;
    v.cert_soon =
        rules.cert_warn.count() > 0 && check.tls_not_after &&
        *check.tls_not_after - check.timestamp < std::chrono::duration_cast<std::chrono::microseconds>(rules.cert_warn);
    return v;
}

bool newer(const SiteState& state, const CheckRecord& check) {
    if (!state.last_timestamp) {
        return true;
    }
    return check.timestamp > *state.last_timestamp ||
           (check.timestamp == *state.last_timestamp && check.check_id > state.last_check_id);
}

namespace {

std::string failure_reason(const SiteState& s, const CheckRecord& check, const std::string& cause) {
    auto detail = check.error_detail.value_or("");
    if (detail.empty() && check.status_code) {
        detail = fmt::format("HTTP {}", *check.status_code);
    }
    return fmt::format("{} failed checks in a row: {}{}", s.failures, cause, detail.empty() ? "" : ": " + detail);
}

std::string degraded_reason(const SiteState& s, const CheckRecord& check, const StateRules& rules, bool slow) {
    if (slow) {
        return fmt::format("{} checks in a row slower than {} ms (the last took {:.0f} ms)", s.slow, rules.slow_ms,
                           check.response_time);
    }
    auto left = std::chrono::duration_cast<std::chrono::hours>(*check.tls_not_after - check.timestamp).count();
    return fmt::format("the certificate expires {} (in {} days {} hours, under cert_warn {})",
                       format_timestamp(*check.tls_not_after), left / 24, left % 24, format_duration(rules.cert_warn));
}

}  // namespace

std::optional<SiteEvent> apply(SiteState& s, const CheckRecord& check, const StateRules& rules) {
    auto v = judge(check, rules);
    if (v.failed) {
        ++s.failures;
        s.successes = s.slow = s.healthy = 0;
        s.last_error = v.cause;
        s.last_error_detail = check.error_detail;
    } else {
        s.failures = 0;
        ++s.successes;
        s.slow = v.slow ? s.slow + 1 : 0;
        s.healthy = v.slow || v.cert_soon ? 0 : s.healthy + 1;
    }
    s.last_check_id = check.check_id;
    s.last_timestamp = check.timestamp;
    s.url = check.url;
    s.group = check.group;
    s.kind = check.kind;

    bool slow_for_long = s.slow >= rules.down_after;
    std::optional<Health> to;
    std::optional<std::string> cause;
    std::string reason;
    if (s.state != Health::Down && s.failures >= rules.down_after) {
        to = Health::Down;
        cause = v.cause;
        reason = failure_reason(s, check, v.cause);
    } else if (s.state == Health::Up && (slow_for_long || v.cert_soon)) {
        to = Health::Degraded;
        cause = slow_for_long ? "slow" : "certificate";
        reason = degraded_reason(s, check, rules, slow_for_long);
    } else if (s.state == Health::Degraded && s.healthy >= rules.up_after) {
        to = Health::Up;
        reason = fmt::format("{} healthy checks in a row", s.healthy);
    } else if (s.state == Health::Down && s.successes >= rules.up_after) {
        // Back, but not necessarily well: a slow answer or an expiring certificate is still news.
        bool degraded = v.slow || v.cert_soon;
        to = degraded ? Health::Degraded : Health::Up;
        reason = fmt::format("{} good checks in a row", s.successes);
        if (degraded) {
            cause = v.slow ? "slow" : "certificate";
            reason += ", but " + degraded_reason(s, check, rules, v.slow);
        }
    }
    if (!to) {
        return std::nullopt;
    }
    SiteEvent e;
    e.site = s.site;
    e.url = check.url;
    e.from = std::string(to_string(s.state));
    e.to = std::string(to_string(*to));
    e.at = check.timestamp;
    e.since = s.since;
    e.check_id = check.check_id;
    e.reason = std::move(reason);
    e.cause = cause;
    e.previous_cause = s.cause;
    e.error_detail = check.error_detail;
    s.state = *to;
    s.since = check.timestamp;
    s.cause = std::move(cause);
    return e;
}

}  // namespace vigil::plugins::pg_sink
