// SPDX-License-Identifier: Apache-2.0
// The state machine of one site as seen from one location: up, down, degraded, moved by that
// location's checks one at a time. Pure: the database part (pg_writer_state.cpp) loads the
// states, feeds site_vote.hpp the checks just inserted, and writes back what changed, in the rows'
// transaction. site_vote.hpp derives the site's state from its locations' states.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/config.hpp"
#include "vigil/record.hpp"

namespace vigil::plugins::pg_sink {

/// How many of a site's voting locations must be down for the site to be down.
struct Quorum {
    enum class Kind { Majority, All, Any, Count };
    Kind kind = Kind::Majority;
    int count = 0;  // Kind::Count: this many (more than there are voting locations: all of them)
    int needed(int voting) const;
    std::string to_string() const;
    /// "majority", "all", "any" or a positive integer; nullopt otherwise.
    static std::optional<Quorum> parse(std::string_view text);
};

/// The thresholds of `state:` (or of one of its `sites:` entries).
struct StateRules {
    int down_after = 3;  // failed checks in a row that make a site down
    int up_after = 2;    // good checks in a row that end down (healthy ones that end degraded)
    double slow_ms = 0;  // a good check slower than this is slow; down_after slow ones degrade; 0: off
    Duration cert_warn = std::chrono::hours(24 * 14);     // degraded when the certificate expires sooner; 0: off
    Quorum quorum;                                        // of the voting locations, down ones that make it down
    Duration location_timeout = std::chrono::minutes(5);  // a location silent this long stops voting; 0: never
};

/// Rules for the sites whose name matches `match`, a shell glob ("shop-*").
struct SiteRules {
    std::string match;
    StateRules rules;
};

struct StateConfig {
    bool enabled = false;
    StateRules defaults;
    std::vector<SiteRules> sites;  // the first entry that matches a site's name wins
    const StateRules& for_site(const std::string& site) const;
};

enum class Health { Up, Down, Degraded };
std::string_view to_string(Health health);
std::optional<Health> health_from_string(std::string_view text);

/// A site_location_state row: one location's state of a site (location "": checks that name
/// none). The site_state row has the same fields (there `location` is unused).
struct SiteState {
    std::string site, url;
    std::string location;
    bool voting = true;  // not silent for longer than location_timeout
    Health state = Health::Up;
    Timestamp since{};
    std::optional<std::string> cause;  // the error kind (down), "slow" or "certificate" (degraded)
    int failures = 0, successes = 0, slow = 0, healthy = 0;  // in a row
    std::string last_check_id;
    std::optional<Timestamp> last_timestamp;
    std::optional<std::string> last_error, last_error_detail;
    std::optional<std::string> group;  // the latest check's `group` (site_state.site_group)
    std::optional<std::string> kind;   // the latest check's `kind`: http, tcp... (site_state.kind)
};

/// What one check says about its site.
struct Verdict {
    bool failed = false;
    std::string cause;       // failed: the error kind ("timeout", "http", "regex", ...)
    bool slow = false;       // good but slower than slow_ms
    bool cert_soon = false;  // good but the certificate expires within cert_warn
};
Verdict judge(const CheckRecord& check, const StateRules& rules);

/// Whether `check` comes after the last check applied to `state` (by start time, then check_id):
/// an older or equal one must change nothing (a straggler, a redelivery of an old id).
bool newer(const SiteState& state, const CheckRecord& check);

/// Applies a newer check to `state` and returns the change it makes, if it makes one (its id
/// is 0 until the database assigns one). The caller checks newer() first.
std::optional<SiteEvent> apply(SiteState& state, const CheckRecord& check, const StateRules& rules);

}  // namespace vigil::plugins::pg_sink
