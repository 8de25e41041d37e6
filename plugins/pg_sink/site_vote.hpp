// SPDX-License-Identifier: Apache-2.0
// A site's state from its locations' states. Each location keeps its own state machine
// (site_state.hpp), moved only by its own checks, so a check from `eu` is never a straggler of
// one from `us`. The site is down when at least `quorum` of the locations still voting are down,
// degraded ("partial") when some but fewer are, and otherwise what its degraded locations make it.
// A location that has sent no check for `location_timeout` of the site's check time stops voting:
// time is the checks' own, so the result depends on the checks alone, never on when they arrive.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "site_state.hpp"

namespace vigil::plugins::pg_sink {

/// A site with its locations: the site_state row and its site_location_state rows.
struct Site {
    /// state, since, cause: the site's; the counters, url, group and last_*: those of the
    /// location that sent the site's latest check (by start time, then check_id).
    SiteState overall;
    std::vector<LocationNote> locations;  // the locations behind overall.state
    std::int64_t revision = 0;            // site_state.revision as read: the compare-and-set's key
    std::map<std::string, SiteState> by_location;
    bool touched = false;  // a check was applied since the row was read: it must be written back
};

/// A row of site_events: a change of the site (location unset) or of one of its locations.
struct StateEvent {
    SiteEvent event;
    std::optional<std::string> location;
};

/// The state of a site as its voting locations make it.
struct Vote {
    Health state = Health::Up;
    std::optional<std::string> cause;  // down: the down locations' commonest; degraded: "partial" or as down
    std::vector<LocationNote> locations;
    int voting = 0, down = 0, needed = 0;
};
Vote vote(const Site& site, const StateRules& rules);

/// Applies one check: to its location's state when it is newer there (otherwise it changes
/// nothing and returns nothing), then the vote. Returns the changes in order: the location's own,
/// locations that stop or start voting, then the site's. Location changes are returned only for a
/// site with more than one location; with one, the site's change is that location's.
std::vector<StateEvent> apply_check(Site& site, const CheckRecord& check, const StateRules& rules);

/// The location key of a check: its `location`, or "" for one that names none.
inline const std::string& location_of(const CheckRecord& check) {
    static const std::string none;
    return check.location ? *check.location : none;
}

}  // namespace vigil::plugins::pg_sink
