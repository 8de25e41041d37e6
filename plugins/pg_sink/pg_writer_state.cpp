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

#include "array_literal.hpp"
#include "pg_result.hpp"
#include "pg_writer.hpp"

namespace vigil::plugins::pg_sink {

using pg::micros;
using pg::ok;
using pg::Result;
using pg::text_or_null;

namespace {

// hashtext('vigil.site_events'), written out: the lock only pg_sink's event writers take.
constexpr const char* kEventsLock = "SELECT pg_advisory_xact_lock(hashtext('vigil.site_events'))";

}  // namespace

std::optional<SiteState> StateCache::get(const std::string& site) const {
    std::lock_guard lock(mutex_);
    auto it = states_.find(site);
    if (it == states_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void StateCache::put(std::vector<SiteState>& states) {
    std::lock_guard lock(mutex_);
    for (auto& s : states) {
        auto key = s.site;
        states_.insert_or_assign(std::move(key), std::move(s));
    }
    states.clear();
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
    Result sp(PQexec(conn_, "SAVEPOINT vigil_state"));
    if (!ok(sp.get())) {
        return fail("SAVEPOINT", sp.get());
    }
    bool conflict = false;
    auto failed = apply_state(batch, fresh, false, conflict);
    if (!failed && conflict) {
        Result back(PQexec(conn_, "ROLLBACK TO SAVEPOINT vigil_state"));
        if (!ok(back.get())) {
            return fail("ROLLBACK TO SAVEPOINT", back.get());
        }
        failed = apply_state(batch, fresh, true, conflict);
        if (!failed && conflict) {
            return fail("UPDATE site_state", "rows changed under FOR UPDATE", "");
        }
    }
    if (failed) {
        return failed;
    }
    Result release(PQexec(conn_, "RELEASE SAVEPOINT vigil_state"));
    if (!ok(release.get())) {
        return fail("RELEASE SAVEPOINT", release.get());
    }
    return std::nullopt;
}

std::optional<ChunkResult> Writer::apply_state(const Batch& batch, std::vector<std::size_t> fresh, bool lock_rows,
                                               bool& conflict) {
    conflict = false;
    pending_.clear();
    auto check = [&](std::size_t i) -> const CheckRecord& { return batch.records[i].check; };
    // Each site's checks in start order: a check that arrives after a later one of its site
    // (a straggler from a slow transfer) is then skipped by newer(), never applied backwards.
    std::sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
        const auto &x = check(a), &y = check(b);
        return std::tie(x.name, x.timestamp, x.check_id) < std::tie(y.name, y.timestamp, y.check_id);
    });
    // Read (with lock_rows, lock) the rows of the sites this chunk moves, in site order; create
    // the ones that do not exist yet (first sight of a site), then read those too.
    std::map<std::string, SiteState> states;
    std::map<std::string, std::optional<std::string>> read_ids;  // last_check_id as read
    auto lock = [&](ArrayLiteral& sites) -> std::optional<ChunkResult> {
        const char* params[] = {sites.c_str()};
        Result r(PQexecParams(
            conn_,
            fmt::format("SELECT site, url, state, (extract(epoch FROM since) * 1000000)::bigint, "
                        "cause, consecutive_failures, consecutive_successes, consecutive_slow, "
                        "consecutive_healthy, last_check_id, (extract(epoch FROM last_timestamp) * "
                        "1000000)::bigint, last_error, last_error_detail, site_group FROM site_state WHERE "
                        "site = ANY($1::text[]) ORDER BY site{}",
                        lock_rows ? " FOR UPDATE" : "")
                .c_str(),
            1, nullptr, params, nullptr, nullptr, 0));
        if (!ok(r.get())) {
            return fail(lock_rows ? "SELECT ... FROM site_state FOR UPDATE" : "SELECT ... FROM site_state", r.get());
        }
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            SiteState st;
            st.site = PQgetvalue(r.get(), i, 0);
            st.url = PQgetvalue(r.get(), i, 1);
            st.state = health_from_string(PQgetvalue(r.get(), i, 2)).value_or(Health::Up);
            st.since = micros(r.get(), i, 3);
            st.cause = text_or_null(r.get(), i, 4);
            st.failures = std::atoi(PQgetvalue(r.get(), i, 5));
            st.successes = std::atoi(PQgetvalue(r.get(), i, 6));
            st.slow = std::atoi(PQgetvalue(r.get(), i, 7));
            st.healthy = std::atoi(PQgetvalue(r.get(), i, 8));
            st.last_check_id = PQgetvalue(r.get(), i, 9);
            if (!PQgetisnull(r.get(), i, 10)) {
                st.last_timestamp = micros(r.get(), i, 10);
            }
            st.last_error = text_or_null(r.get(), i, 11);
            st.last_error_detail = text_or_null(r.get(), i, 12);
            st.group = text_or_null(r.get(), i, 13);
            read_ids[st.site] = text_or_null(r.get(), i, 9);
            states.emplace(st.site, std::move(st));
        }
        return std::nullopt;
    };
    // The states this sink wrote last, when it has them (the steady state: no read at all);
    // the others from the table. The compare-and-set below catches a cached state that another
    // transaction has since moved.
    ArrayLiteral sites;
    std::vector<std::size_t> firsts;  // each site's first check in this chunk
    for (std::size_t k = 0; k < fresh.size(); ++k) {
        if (k == 0 || check(fresh[k]).name != check(fresh[k - 1]).name) {
            firsts.push_back(fresh[k]);
            const auto& name = check(fresh[k]).name;
            if (!lock_rows && cache_ != nullptr) {
                if (auto cached = cache_->get(name)) {
                    read_ids[name] = cached->last_check_id;
                    states.emplace(name, std::move(*cached));
                    continue;
                }
            }
            sites.add(name);
        }
    }
    if (states.size() < firsts.size()) {
        if (auto failed = lock(sites)) {
            return failed;
        }
    }
    if (states.size() < firsts.size()) {
        ArrayLiteral new_sites, urls, since;
        for (auto i : firsts) {
            if (states.count(check(i).name) == 0) {
                new_sites.add(check(i).name);
                urls.add(check(i).url);
                since.add(check(i).timestamp);
            }
        }
        const char* create[] = {new_sites.c_str(), urls.c_str(), since.c_str()};
        Result r(
            PQexecParams(conn_,
                         "INSERT INTO site_state (site, url, state, since) "
                         "SELECT s, u, 'up', t FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(s, u, t) "
                         "ORDER BY s ON CONFLICT (site) DO NOTHING",
                         3, nullptr, create, nullptr, nullptr, 0));
        if (!ok(r.get())) {
            return fail("INSERT INTO site_state", r.get());
        }
        if (auto failed = lock(new_sites)) {
            return failed;
        }
    }
    std::vector<SiteEvent> events;
    std::map<std::string, const SiteState*> changed;
    for (auto i : fresh) {
        const auto& c = check(i);
        auto it = states.find(c.name);
        if (it == states.end() || !newer(it->second, c)) {
            continue;
        }
        if (auto e = apply(it->second, c, config_.state.for_site(c.name))) {
            events.push_back(std::move(*e));
        }
        changed[c.name] = &it->second;
    }
    if (changed.empty()) {
        return std::nullopt;
    }
    for (const auto& [site, st] : changed) {
        pending_.push_back(*st);
    }
    ArrayLiteral a_site, a_url, a_state, a_since, a_cause, a_fail, a_succ, a_slow, a_healthy, a_id, a_ts, a_err,
        a_detail, a_read, a_group;
    for (const auto& [site, s] : changed) {
        a_read.add(read_ids[site]);
        a_site.add(s->site);
        a_url.add(s->url);
        a_state.add(std::string(to_string(s->state)));
        a_since.add(s->since);
        a_cause.add(s->cause);
        a_fail.add(s->failures);
        a_succ.add(s->successes);
        a_slow.add(s->slow);
        a_healthy.add(s->healthy);
        a_id.add(s->last_check_id);
        a_ts.add(s->last_timestamp);
        a_err.add(s->last_error);
        a_detail.add(s->last_error_detail);
        a_group.add(s->group);
    }
    const char* update_params[] = {a_site.c_str(),    a_url.c_str(),  a_state.c_str(), a_since.c_str(),
                                   a_cause.c_str(),   a_fail.c_str(), a_succ.c_str(),  a_slow.c_str(),
                                   a_healthy.c_str(), a_id.c_str(),   a_ts.c_str(),    a_err.c_str(),
                                   a_detail.c_str(),  a_read.c_str(), a_group.c_str()};
    Result r(PQexecParams(
        conn_,
        "UPDATE site_state AS s SET url = x.url, state = x.state, since = x.since, cause = x.cause, "
        "consecutive_failures = x.f, consecutive_successes = x.su, consecutive_slow = x.sl, "
        "consecutive_healthy = x.h, last_check_id = x.cid, last_timestamp = x.ts, last_error = x.err, "
        "last_error_detail = x.det, site_group = x.grp, updated_at = now() "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::int[], "
        "$8::int[], $9::int[], $10::text[], $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::text[]) "
        "AS x(site, url, state, since, cause, f, su, sl, h, cid, ts, err, det, read, grp) "
        "WHERE s.site = x.site AND s.last_check_id IS NOT DISTINCT FROM x.read",
        15, nullptr, update_params, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail("UPDATE site_state", r.get());
    }
    if (std::strtoull(PQcmdTuples(r.get()), nullptr, 10) != changed.size()) {
        conflict = true;  // another transaction moved a site since it was read
        return std::nullopt;
    }
    if (events.empty()) {
        return std::nullopt;
    }
    ArrayLiteral e_site, e_url, e_from, e_to, e_at, e_since, e_id, e_reason, e_cause, e_prev, e_detail;
    for (const auto& e : events) {
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
    }
    r.reset(PQexec(conn_, kEventsLock));
    if (!ok(r.get())) {
        return fail("locking site_events", r.get());
    }
    const char* event_params[] = {e_site.c_str(),  e_url.c_str(),   e_from.c_str(),  e_to.c_str(),
                                  e_at.c_str(),    e_since.c_str(), e_id.c_str(),    e_reason.c_str(),
                                  e_cause.c_str(), e_prev.c_str(),  e_detail.c_str()};
    r.reset(PQexecParams(
        conn_,
        "INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause, "
        "previous_cause, error_detail) SELECT site, url, f, t, at, since, cid, reason, cause, prev, det "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], "
        "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY "
        "AS x(site, url, f, t, at, since, cid, reason, cause, prev, det, n) ORDER BY n",
        11, nullptr, event_params, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail("INSERT INTO site_events", r.get());
    }
    // Delivered at COMMIT, and only then: pg_events wakes within a moment of the change.
    r.reset(PQexec(conn_, "NOTIFY vigil_site_events"));
    if (!ok(r.get())) {
        return fail("NOTIFY vigil_site_events", r.get());
    }
    events_ = events.size();
    return std::nullopt;
}

}  // namespace vigil::plugins::pg_sink
