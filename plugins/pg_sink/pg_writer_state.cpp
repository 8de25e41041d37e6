// SPDX-License-Identifier: Apache-2.0
// The writer's `state:` part: the rows a transaction inserted move their sites' states, in that
// transaction. Exactly once by construction: a redelivered check is not inserted again, so it is
// not returned by RETURNING and moves nothing; a rolled-back transaction moves nothing either.
//
// Concurrency: each site_state row is written back only if its last_check_id is still the one
// the state was computed from (compare-and-set), so two writers sharing a site (two consumers
// during a rebalance) never overwrite each other: the one that finds a row moved redoes its
// chunk's state under FOR UPDATE. site_events ids are taken under one transaction-level advisory
// lock held to COMMIT, so they grow in commit order and pg_events can read "after id N" without
// missing an event that commits late.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "array_literal.hpp"
#include "location_notes.hpp"
#include "pg_result.hpp"
#include "pg_writer.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_sink {

using pg::micros;
using pg::ok;
using pg::Result;
using pg::text_or_null;

namespace {

// hashtext('vigil.site_events'), written out: the lock only pg_sink's event writers take.
constexpr const char* kEventsLock = "SELECT pg_advisory_xact_lock(hashtext('vigil.site_events'))";

}  // namespace

std::optional<Site> StateCache::take(const std::string& site) {
    Lock lock(mutex_);
    auto it = sites_.find(site);
    if (it == sites_.end()) {
        return std::nullopt;
    }
    std::optional<Site> out(std::move(it->second));
    sites_.erase(it);
    return out;
}

void StateCache::put(std::vector<Site>& sites) {
    Lock lock(mutex_);
    for (auto& s : sites) {
        auto key = s.overall.site;
        sites_.insert_or_assign(std::move(key), std::move(s));
    }
    sites.clear();
}

void Writer::collect_inserted(const PGresult* r, const std::unordered_map<std::string_view, std::size_t>& by_id,
                              std::vector<std::size_t>& fresh) const {
    for (int i = 0; i < PQntuples(r); ++i) {
        auto it = by_id.find(std::string_view(PQgetvalue(r, i, 0), static_cast<std::size_t>(PQgetlength(r, i, 0))));
        if (it != by_id.end()) {
            fresh.push_back(it->second);
        }
    }
}

std::optional<ChunkResult> Writer::update_state(const Batch& batch, std::vector<std::size_t> fresh) {
    if (fresh.empty()) {
        return std::nullopt;
    }
    // Optimistic first: read the states without locking them and write each back only if its
    // last_check_id is still what was read (one owner per site is the steady state, and locking
    // thousands of rows first costs a write per row). If another transaction moved one of them
    // meanwhile (two consumers during a rebalance), undo and do it again under FOR UPDATE.
    if (auto failed = run("SAVEPOINT vigil_state")) {
        return failed;
    }
    bool conflict = false;
    auto failed = apply_state(batch, fresh, false, conflict);
    if (!failed && conflict) {
        if (auto failed = run("ROLLBACK TO SAVEPOINT vigil_state")) {
            return failed;
        }
        failed = apply_state(batch, fresh, true, conflict);
        if (!failed && conflict) {
            return fail("UPDATE site_state", "rows changed under FOR UPDATE", "");
        }
    }
    if (failed) {
        return failed;
    }
    if (auto failed = run("RELEASE SAVEPOINT vigil_state")) {
        return failed;
    }
    return std::nullopt;
}

namespace {

// The columns a state row has in site_state and site_location_state alike, from `state` on.
constexpr const char* kStateColumns =
    "url, state, (extract(epoch FROM since) * 1000000)::bigint, cause, consecutive_failures, "
    "consecutive_successes, consecutive_slow, consecutive_healthy, last_check_id, "
    "(extract(epoch FROM last_timestamp) * 1000000)::bigint, last_error, last_error_detail";

// Reads kStateColumns from column `c` on.
void read_state(const PGresult* r, int i, int c, SiteState& st) {
    st.url = PQgetvalue(r, i, c);
    st.state = health_from_string(PQgetvalue(r, i, c + 1)).value_or(Health::Up);
    st.since = micros(r, i, c + 2);
    st.cause = text_or_null(r, i, c + 3);
    st.failures = std::atoi(PQgetvalue(r, i, c + 4));
    st.successes = std::atoi(PQgetvalue(r, i, c + 5));
    st.slow = std::atoi(PQgetvalue(r, i, c + 6));
    st.healthy = std::atoi(PQgetvalue(r, i, c + 7));
    st.last_check_id = PQgetvalue(r, i, c + 8);
    if (!PQgetisnull(r, i, c + 9)) {
        st.last_timestamp = micros(r, i, c + 9);
    }
    st.last_error = text_or_null(r, i, c + 10);
    st.last_error_detail = text_or_null(r, i, c + 11);
}

// One unnest() parameter per column of the state rows written back.
struct StateArrays {
    ArrayLiteral site, url, state, since, cause, fail, succ, slow, healthy, id, ts, err, detail;
    void add(const SiteState& s) {
        site.add(s.site);
        url.add(s.url);
        state.add(std::string(to_string(s.state)));
        since.add(s.since);
        cause.add(s.cause);
        fail.add(s.failures);
        succ.add(s.successes);
        slow.add(s.slow);
        healthy.add(s.healthy);
        id.add(s.last_check_id);
        ts.add(s.last_timestamp);
        err.add(s.last_error);
        detail.add(s.last_error_detail);
    }
    // $1..$13 in this order.
    std::vector<const char*> params() {
        return {site.c_str(), url.c_str(),     state.c_str(), since.c_str(), cause.c_str(), fail.c_str(),  succ.c_str(),
                slow.c_str(), healthy.c_str(), id.c_str(),    ts.c_str(),    err.c_str(),   detail.c_str()};
    }
};
constexpr const char* kStateUnnest =
    "unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::int[], $8::int[], "
    "$9::int[], $10::text[], $11::timestamptz[], $12::text[], $13::text[]";
constexpr const char* kStateAs = "site, url, state, since, cause, f, su, sl, h, cid, ts, err, det";

// A text[] literal of `names` (also an item of a text[] parameter: unnest cannot take a 2-D one).
std::string names_literal(const std::vector<std::string>& names) {
    ArrayLiteral list;
    for (const auto& n : names) {
        list.add(n);
    }
    return list.c_str();
}

// site_state.location_states: every location's state of `site`, one positional array each (the
// migration's order, which the view site_location_state reads). Empty for a site whose only
// location is "": its own columns are that location's state.
std::string location_states_json(const Site& site) {
    if (site.by_location.size() == 1 && site.by_location.begin()->first.empty()) {
        return {};
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&](const std::string& v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); };
    auto opt = [&](const std::optional<std::string>& v) {
        if (v) {
            str(*v);
        } else {
            w.Null();
        }
    };
    w.StartArray();
    for (const auto& [name, l] : site.by_location) {
        w.StartArray();
        str(name);
        str(std::string(to_string(l.state)));
        str(format_timestamp(l.since));
        opt(l.cause);
        w.Bool(l.voting);
        w.Int(l.failures);
        w.Int(l.successes);
        w.Int(l.slow);
        w.Int(l.healthy);
        str(l.last_check_id);
        opt(l.last_timestamp ? std::optional<std::string>(format_timestamp(*l.last_timestamp)) : std::nullopt);
        opt(l.last_error);
        opt(l.last_error_detail);
        w.EndArray();
    }
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace

std::optional<ChunkResult> Writer::read_sites(const std::vector<std::string>& names, bool lock_rows,
                                              std::map<std::string, Site>& sites) {
    auto list = names_literal(names);
    const char* params[] = {list.c_str()};
    Result r(
        PQexecParams(conn_.get(),
                     fmt::format("SELECT site, {}, site_group, locations::text, revision, kind FROM site_state WHERE "
                                 "site = ANY($1::text[]) ORDER BY site{}",
                                 kStateColumns, lock_rows ? " FOR UPDATE" : "")
                         .c_str(),
                     1, nullptr, params, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail(lock_rows ? "SELECT ... FROM site_state FOR UPDATE" : "SELECT ... FROM site_state", r.get());
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        Site site;
        site.overall.site = PQgetvalue(r.get(), i, 0);
        read_state(r.get(), i, 1, site.overall);
        site.overall.group = text_or_null(r.get(), i, 13);
        std::string error;
        site.locations = pg::notes_from_json(PQgetvalue(r.get(), i, 14), error);
        site.revision = std::strtoll(PQgetvalue(r.get(), i, 15), nullptr, 10);
        site.overall.kind = text_or_null(r.get(), i, 16);
        sites.insert_or_assign(site.overall.site, std::move(site));
    }
    // The locations' states, through the view over site_state.location_states (a second read of
    // the same rows: a site moved between the two is caught by the compare-and-set).
    r.reset(PQexecParams(conn_.get(),
                         fmt::format("SELECT site, location, voting, {} FROM site_location_state WHERE site = "
                                     "ANY($1::text[])",
                                     kStateColumns)
                             .c_str(),
                         1, nullptr, params, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail("SELECT ... FROM site_location_state", r.get());
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        auto it = sites.find(PQgetvalue(r.get(), i, 0));
        if (it == sites.end()) {
            continue;
        }
        SiteState loc;
        loc.site = it->first;
        loc.location = PQgetvalue(r.get(), i, 1);
        loc.voting = PQgetvalue(r.get(), i, 2)[0] == 't';
        read_state(r.get(), i, 3, loc);
        auto key = loc.location;
        it->second.by_location.insert_or_assign(std::move(key), std::move(loc));
    }
    return std::nullopt;
}

std::optional<ChunkResult> Writer::apply_state(const Batch& batch, std::vector<std::size_t> fresh, bool lock_rows,
                                               bool& conflict) {
    conflict = false;
    pending_.clear();
    auto check = [&](std::size_t i) -> const CheckRecord& { return batch.records[i].check; };
    // Each site's checks in start order: a check that arrives after a later one of its location
    // (a straggler from a slow transfer) is then skipped, never applied backwards.
    std::sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
        const auto &x = check(a), &y = check(b);
        return std::tie(x.name, x.timestamp, x.check_id) < std::tie(y.name, y.timestamp, y.check_id);
    });
    // The sites this sink wrote last, when it has them (the steady state: no read at all); the
    // others from the tables. The compare-and-set catches a cached site another writer moved.
    std::map<std::string, Site> sites;
    std::vector<std::size_t> firsts;  // each site's first check in this chunk
    std::vector<std::string> to_read;
    for (std::size_t k = 0; k < fresh.size(); ++k) {
        if (k == 0 || check(fresh[k]).name != check(fresh[k - 1]).name) {
            firsts.push_back(fresh[k]);
            const auto& name = check(fresh[k]).name;
            if (!lock_rows && cache_ != nullptr) {
                if (auto cached = cache_->take(name)) {
                    sites.emplace(name, std::move(*cached));
                    continue;
                }
            }
            to_read.push_back(name);
        }
    }
    if (!to_read.empty()) {
        if (auto failed = read_sites(to_read, lock_rows, sites)) {
            return failed;
        }
    }
    if (sites.size() < firsts.size()) {
        // First sight of these sites: create their rows (up since their first check, no location
        // yet: '[]'), then read them.
        ArrayLiteral new_sites, urls, since;
        std::vector<std::string> created;
        for (auto i : firsts) {
            if (sites.count(check(i).name) == 0) {
                new_sites.add(check(i).name);
                urls.add(check(i).url);
                since.add(check(i).timestamp);
                created.push_back(check(i).name);
            }
        }
        const char* create[] = {new_sites.c_str(), urls.c_str(), since.c_str()};
        Result r(PQexecParams(conn_.get(),
                              "INSERT INTO site_state (site, url, state, since, location_states) "
                              "SELECT s, u, 'up', t, '[]' FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
                              "AS x(s, u, t) "
                              "ORDER BY s ON CONFLICT (site) DO NOTHING",
                              3, nullptr, create, nullptr, nullptr, 0));
        if (!ok(r.get())) {
            return fail("INSERT INTO site_state", r.get());
        }
        if (auto failed = read_sites(created, lock_rows, sites)) {
            return failed;
        }
    }
    std::vector<StateEvent> events;
    for (auto i : fresh) {
        const auto& c = check(i);
        auto it = sites.find(c.name);
        if (it == sites.end()) {
            continue;
        }
        auto changes = apply_check(it->second, c, config_.state.for_site(c.name));
        std::move(changes.begin(), changes.end(), std::back_inserter(events));
    }
    // The sites this chunk moved are written back; the others go back to the cache as they were
    // (taken out of it above).
    std::vector<Site*> written;
    for (auto& [name, site] : sites) {
        if (site.touched) {
            written.push_back(&site);
        } else {
            pending_.push_back(std::move(site));
        }
    }
    if (written.empty()) {
        return std::nullopt;
    }
    if (auto failed = write_sites(written, conflict); failed || conflict) {
        return failed;
    }
    for (auto* site : written) {
        ++site->revision;
        site->touched = false;
        pending_.push_back(std::move(*site));
    }
    return write_events(events);
}

std::optional<ChunkResult> Writer::write_sites(const std::vector<Site*>& sites, bool& conflict) {
    StateArrays a;
    ArrayLiteral group, locations, location_states, revision, kind;
    for (const auto* s : sites) {
        a.add(s->overall);
        group.add(s->overall.group);
        kind.add(s->overall.kind);
        locations.add(pg::notes_to_json(s->locations));
        location_states.add(location_states_json(*s));
        revision.add(s->revision);
    }
    auto params = a.params();
    params.insert(params.end(),
                  {group.c_str(), locations.c_str(), location_states.c_str(), revision.c_str(), kind.c_str()});
    // One row a site, its locations' states in it: a check costs one row write however many
    // locations see the site, and the revision guards the site and its locations together.
    Result r(PQexecParams(
        conn_.get(),
        fmt::format("UPDATE site_state AS s SET url = x.url, state = x.state, since = x.since, cause = x.cause, "
                    "consecutive_failures = x.f, consecutive_successes = x.su, consecutive_slow = x.sl, "
                    "consecutive_healthy = x.h, last_check_id = x.cid, last_timestamp = x.ts, last_error = x.err, "
                    "last_error_detail = x.det, site_group = x.grp, locations = x.locs::jsonb, "
                    "location_states = x.ls, kind = x.knd, revision = s.revision + 1, updated_at = now() "
                    "FROM {}, $14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[]) "
                    "AS x({}, grp, locs, ls, rev, knd) "
                    "WHERE s.site = x.site AND s.revision = x.rev",
                    kStateUnnest, kStateAs)
            .c_str(),
        static_cast<int>(params.size()), nullptr, params.data(), nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail("UPDATE site_state", r.get());
    }
    if (std::strtoull(PQcmdTuples(r.get()), nullptr, 10) != sites.size()) {
        conflict = true;  // another transaction moved a site since it was read
    }
    return std::nullopt;
}

std::optional<ChunkResult> Writer::write_events(const std::vector<StateEvent>& events) {
    if (events.empty()) {
        return std::nullopt;
    }
    ArrayLiteral e_site, e_url, e_from, e_to, e_at, e_since, e_id, e_reason, e_cause, e_prev, e_detail, e_kind,
        e_location, e_locations, e_previous;
    for (const auto& [e, location] : events) {
        e_site.add(e.site);
        e_url.add(e.url);
        e_from.add(e.from);
        e_to.add(e.to);
        e_at.add(e.at);
        e_since.add(e.since);
        e_id.add(e.check_id);
        e_reason.add(e.reason);
        e_cause.add(e.cause);
        e_prev.add(e.previous_cause);
        e_detail.add(e.error_detail);
        e_kind.add(std::string(location ? "location" : "site"));
        e_location.add(location);
        e_locations.add(pg::notes_to_json(e.locations));
        e_previous.add(names_literal(e.previous_locations));
    }
    Result r(PQexec(conn_.get(), kEventsLock));
    if (!ok(r.get())) {
        return fail("locking site_events", r.get());
    }
    const char* event_params[] = {e_site.c_str(),     e_url.c_str(),       e_from.c_str(),    e_to.c_str(),
                                  e_at.c_str(),       e_since.c_str(),     e_id.c_str(),      e_reason.c_str(),
                                  e_cause.c_str(),    e_prev.c_str(),      e_detail.c_str(),  e_kind.c_str(),
                                  e_location.c_str(), e_locations.c_str(), e_previous.c_str()};
    r.reset(PQexecParams(
        conn_.get(),
        "INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause, "
        "previous_cause, error_detail, kind, location, locations, previous_locations) "
        "SELECT site, url, f, t, at, since, cid, reason, cause, prev, det, kind, loc, locs::jsonb, "
        "prevs::text[] "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], "
        "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], "
        "$15::text[]) WITH ORDINALITY "
        "AS x(site, url, f, t, at, since, cid, reason, cause, prev, det, kind, loc, locs, prevs, n) ORDER BY n",
        15, nullptr, event_params, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail("INSERT INTO site_events", r.get());
    }
    // Delivered at COMMIT, and only then: pg_events wakes within a moment of the change.
    r.reset(PQexec(conn_.get(), "NOTIFY vigil_site_events"));
    if (!ok(r.get())) {
        return fail("NOTIFY vigil_site_events", r.get());
    }
    events_ = events.size();
    return std::nullopt;
}

}  // namespace vigil::plugins::pg_sink
