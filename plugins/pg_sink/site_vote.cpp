// SPDX-License-Identifier: Apache-2.0
#include "site_vote.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace vigil::plugins::pg_sink {

namespace {

std::string shown(const std::string& location) { return location.empty() ? "(no location)" : location; }

// The commonest cause among `notes`, ties to the first by name: the same whatever the order.
std::optional<std::string> commonest(const std::vector<LocationNote>& notes) {
    std::map<std::string, int> counts;
    for (const auto& n : notes) {
        if (n.cause) {
            ++counts[*n.cause];
        }
    }
    std::optional<std::string> best;
    int most = 0;
    for (const auto& [cause, count] : counts) {
        if (count > most) {
            best = cause;
            most = count;
        }
    }
    return best;
}

std::string listed(const std::vector<LocationNote>& notes) {
    std::string out;
    for (const auto& n : notes) {
        out += fmt::format("{}{}: {}{}", out.empty() ? "" : "; ", shown(n.location), n.cause.value_or(n.state),
                           n.detail && !n.detail->empty() ? ": " + *n.detail : "");
    }
    return out;
}

std::vector<std::string> names(const std::vector<LocationNote>& notes) {
    std::vector<std::string> out;
    for (const auto& n : notes) {
        out.push_back(n.location);
    }
    return out;
}

bool voting_at(const SiteState& loc, Timestamp latest, const StateRules& rules) {
    return rules.location_timeout.count() == 0 || !loc.last_timestamp ||
           latest - *loc.last_timestamp <=
               std::chrono::duration_cast<std::chrono::microseconds>(rules.location_timeout);
}

SiteEvent event_of(const SiteState& before, const CheckRecord& check, std::string from, std::string to,
                   std::string reason) {
    SiteEvent e;
    e.site = before.site;
    e.url = check.url;
    e.from = std::move(from);
    e.to = std::move(to);
    e.at = check.timestamp;
    e.since = before.since;
    e.check_id = check.check_id;
    e.reason = std::move(reason);
    e.previous_cause = before.cause;
    e.error_detail = check.error_detail;
    return e;
}

std::string vote_reason(const Vote& v, const StateRules& rules) {
    auto of = fmt::format("{} of {} voting location{}", v.down, v.voting, v.voting == 1 ? "" : "s");
    auto quorum = fmt::format("quorum {}: {}", rules.quorum.to_string(), v.needed);
    if (v.state == Health::Down) {
        return fmt::format("down from {} ({}): {}", of, quorum, listed(v.locations));
    }
    if (v.state == Health::Degraded && v.down > 0) {
        return fmt::format("down from {}, under the {}: {}", of, quorum, listed(v.locations));
    }
    if (v.state == Health::Degraded) {
        return fmt::format("degraded from {} of {} voting locations: {}", v.locations.size(), v.voting,
                           listed(v.locations));
    }
    return fmt::format("no voting location is down or degraded ({} voting)", v.voting);
}

}  // namespace

Vote vote(const Site& site, const StateRules& rules) {
    Vote v;
    std::vector<LocationNote> down, degraded;
    for (const auto& [name, loc] : site.by_location) {
        if (!loc.voting) {
            continue;
        }
        ++v.voting;
        if (loc.state == Health::Down) {
            down.push_back({name, "down", loc.cause, loc.last_error_detail});
        } else if (loc.state == Health::Degraded) {
            degraded.push_back({name, "degraded", loc.cause, std::nullopt});
        }
    }
    v.down = static_cast<int>(down.size());
    v.needed = rules.quorum.needed(v.voting);
    if (v.down > 0 && v.down >= v.needed) {
        v.state = Health::Down;
        v.cause = commonest(down);
        v.locations = std::move(down);
    } else if (v.down > 0) {
        v.state = Health::Degraded;
        v.cause = "partial";
        v.locations = std::move(down);
    } else if (!degraded.empty()) {
        v.state = Health::Degraded;
        v.cause = commonest(degraded);
        v.locations = std::move(degraded);
    }
    return v;
}

std::vector<StateEvent> apply_check(Site& site, const CheckRecord& check, const StateRules& rules) {
    const auto& key = location_of(check);
    auto [it, created] = site.by_location.try_emplace(key);
    auto& loc = it->second;
    if (created) {
        loc.site = site.overall.site;
        loc.location = key;
        loc.since = check.timestamp;
    }
    if (!newer(loc, check)) {
        return {};
    }
    std::vector<StateEvent> out;
    bool several = site.by_location.size() > 1;
    auto own = apply(loc, check, rules);
    site.touched = true;
    if (own && several) {
        own->site = site.overall.site;
        out.push_back({*own, key});
    }
    auto& o = site.overall;
    if (newer(o, check)) {
        o.url = loc.url;
        o.group = loc.group;
        o.kind = loc.kind;
        o.failures = loc.failures;
        o.successes = loc.successes;
        o.slow = loc.slow;
        o.healthy = loc.healthy;
        o.last_check_id = loc.last_check_id;
        o.last_timestamp = loc.last_timestamp;
        o.last_error = loc.last_error;
        o.last_error_detail = loc.last_error_detail;
    }
    // Who votes, at the site's latest check time: a location silent for location_timeout stops.
    std::string stopped;
    for (auto& [name, l] : site.by_location) {
        bool voting = voting_at(l, *o.last_timestamp, rules);
        if (voting == l.voting) {
            continue;
        }
        l.voting = voting;
        auto state = std::string(to_string(l.state));
        auto why = voting ? fmt::format("{} votes again", shown(name))
                          : fmt::format("{} stopped voting: no check for {} (its last started {})", shown(name),
                                        format_duration(rules.location_timeout), format_timestamp(*l.last_timestamp));
        if (!voting) {
            stopped += (stopped.empty() ? "" : "; ") + why;
        }
        if (several) {
            auto e = event_of(l, check, voting ? "silent" : state, voting ? state : "silent", why);
            e.cause = l.cause;
            out.push_back({std::move(e), name});
        }
    }
    auto v = vote(site, rules);
    auto before = names(site.locations);
    auto after = names(v.locations);
    if (v.state == o.state && before == after) {
        site.locations = std::move(v.locations);  // the same locations; their latest errors
        return out;
    }
    std::string reason;
    if (!several && own) {
        reason = own->reason;  // one location: its change is the site's, as it always was
    } else {
        reason = (stopped.empty() ? "" : stopped + "; ") + vote_reason(v, rules);
    }
    auto e = event_of(o, check, std::string(to_string(o.state)), std::string(to_string(v.state)), std::move(reason));
    e.cause = v.cause;
    e.locations = v.locations;
    e.previous_locations = std::move(before);
    if (v.state != o.state) {
        o.since = check.timestamp;
    }
    o.state = v.state;
    o.cause = v.cause;
    site.locations = std::move(v.locations);
    out.push_back({std::move(e), std::nullopt});
    return out;
}

}  // namespace vigil::plugins::pg_sink
