// SPDX-License-Identifier: Apache-2.0
#include "store.hpp"

#include <cstdlib>

#include <fmt/core.h>

#include "location_notes.hpp"
#include "pg_connection.hpp"
#include "pg_result.hpp"
#include "vigil/sync.hpp"

namespace vigil::status_page {

using pg::chomp;
using pg::ok;
using pg::Result;

namespace {

// Times as ISO 8601 UTC (the session's TimeZone is UTC).
std::string iso(const std::string& column) {
    return fmt::format("to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", column);
}

std::optional<std::string> text(const PGresult* r, int row, int col) { return pg::text_or_null(r, row, col); }
std::optional<double> number(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) {
        return std::nullopt;
    }
    return std::strtod(PQgetvalue(r, row, col), nullptr);
}
long long integer(const PGresult* r, int row, int col) { return std::strtoll(PQgetvalue(r, row, col), nullptr, 10); }

// last_error: the kind and its detail ("http: status 503 is not one of 200-399").
const std::string kSummaryColumns = "s.site, s.url, s.state, " + iso("s.since") + ", s.cause, " +
                                    iso("s.last_timestamp") +
                                    ", nullif(concat_ws(': ', s.last_error, s.last_error_detail), ''), s.site_group, "
                                    "(SELECT coalesce(jsonb_agg(n->'location'), '[]') FROM "
                                    "jsonb_array_elements(s.locations) n)::text, coalesce(s.kind, 'http')";

// Columns of kSummaryColumns: what a query adds after them starts here.
constexpr int kSummaryCount = 10;

void read_summary(const PGresult* r, int row, SiteSummary& s) {
    s.name = PQgetvalue(r, row, 0);
    s.url = PQgetvalue(r, row, 1);
    s.state = PQgetvalue(r, row, 2);
    s.since = PQgetvalue(r, row, 3);
    s.cause = text(r, row, 4);
    s.last_check = text(r, row, 5);
    s.last_error = text(r, row, 6);
    s.group = text(r, row, 7);
    std::string error;  // a malformed list (written by hand) shows as none
    s.locations = pg::names_from_json(PQgetvalue(r, row, 8), error);
    s.kind = PQgetvalue(r, row, 9);
}

}  // namespace

/// A pooled connection for one request: back to the pool at the end, or closed if it broke.
struct Store::Lease {
    Store& store;
    pg::Conn conn;
    bool broken = false;
    ~Lease() {
        if (conn != nullptr) {
            bool gone = broken || PQstatus(conn.get()) != CONNECTION_OK;
            store.release(std::move(conn), gone);
        }
    }
    // Runs `sql` with text parameters; on failure, `error` says what and the lease is marked.
    Result run(const std::string& sql, const std::vector<std::string>& params, Status& error) {
        std::vector<const char*> p;
        for (const auto& v : params) {
            p.push_back(v.c_str());
        }
        Result r(
            PQexecParams(conn.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0));
        if (!ok(r.get())) {
            error =
                Status::error(fmt::format("PostgreSQL {}: {}", pg::describe(conn), chomp(PQerrorMessage(conn.get()))));
            broken = true;
        }
        return r;
    }
};

Store::Store(Secret url, int connections) : url_(std::move(url)), max_idle_(static_cast<std::size_t>(connections)) {}

Store::~Store() = default;

pg::Conn Store::acquire(std::string& error) {
    {
        Lock lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
    }
    auto c = pg::connect(url_, "vigil-status-page", error);
    if (c == nullptr) {
        return nullptr;
    }
    // Read only whatever the role may do; answers in bounded time; times in UTC.
    Result r(PQexec(c.get(),
                    "SET default_transaction_read_only = on; SET statement_timeout = '5s'; SET TimeZone = 'UTC'; "
                    "SET client_min_messages = warning"));
    if (!ok(r.get())) {
        error = chomp(PQerrorMessage(c.get()));
        return nullptr;
    }
    return c;
}

void Store::release(pg::Conn conn, bool broken) {
    Lock lock(mutex_);
    if (!broken && idle_.size() < max_idle_) {
        idle_.push_back(std::move(conn));
    }  // else closed here, by its owner
}

Status Store::check(std::string& warning) {
    std::string error;
    Lease l{*this, acquire(error)};
    if (l.conn == nullptr) {
        return Status::error(error);
    }
    Status st = Status::success();
    auto r = l.run(
        "SELECT t FROM unnest(ARRAY['site_state', 'site_location_state', 'site_events', 'metrics', 'metrics_hourly', "
        "'metrics_daily']) t "
        "WHERE to_regclass(t) IS NULL",
        {}, st);
    if (!st.ok()) {
        return st;
    }
    if (PQntuples(r.get()) > 0) {
        std::string missing;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            missing += (i ? ", " : "") + std::string(PQgetvalue(r.get(), i, 0));
        }
        return Status::error(
            fmt::format("{}: the database has no {} (run `agent migrate`; pg_sink keeps them with "
                        "`state:` and `rollups:`)",
                        pg::describe(l.conn), missing));
    }
    r = l.run(
        "SELECT current_user, bool_or(has_table_privilege(t, 'INSERT') OR has_table_privilege(t, 'UPDATE') OR "
        "has_table_privilege(t, 'DELETE')) FROM unnest(ARRAY['site_state', 'site_location_state', 'site_events', "
        "'metrics', 'metrics_hourly', 'metrics_daily']) t GROUP BY 1",
        {}, st);
    if (!st.ok()) {
        return st;
    }
    if (PQgetvalue(r.get(), 0, 1)[0] == 't') {
        warning = fmt::format(
            "role {} may write the tables it shows; the page's sessions are read-only, but give it a role that can "
            "only read (status/README.md)",
            PQgetvalue(r.get(), 0, 0));
    }
    return Status::success();
}

Status Store::list(const SiteQuery& q, SiteList& out) {
    std::string error;
    Lease l{*this, acquire(error)};
    if (l.conn == nullptr) {
        return Status::error(error);
    }
    Status st = Status::success();
    // $1: the search with LIKE's wildcards escaped, so that "%" or "_" is looked for as such.
    const std::string match =
        "($1 = '' OR lower(site) LIKE '%' || lower($1) || '%') AND ($2 = '' OR state = $2) AND "
        "($3 = '' OR site_group = $3)";
    std::string pattern;
    for (char c : q.search) {
        if (c == '%' || c == '_' || c == '\\') {
            pattern += '\\';
        }
        pattern += c;
    }
    // Two counts, each cached: the states and groups of all sites (one read of every site), and
    // how many match (an index read for a search, a state or a group; none for no filter).
    auto now = std::chrono::steady_clock::now();
    auto lookup = [&](const std::string& key) -> std::optional<Counts> {
        Lock lock(mutex_);
        auto it = counts_.find(key);
        if (it != counts_.end() && now - it->second.at < kCountsFor) {
            return it->second;
        }
        return std::nullopt;
    };
    auto keep = [&](const std::string& key, const Counts& c) {
        Lock lock(mutex_);
        if (counts_.size() > 1000) {
            counts_.clear();  // searches are many and each is cached briefly: start again
        }
        counts_[key] = c;
    };
    Result r;
    const std::string all_key = "\x01all";
    auto all = lookup(all_key);
    if (!all) {
        Counts c;
        c.at = now;
        r = l.run(
            "SELECT count(*) FILTER (WHERE state = 'up'), count(*) FILTER (WHERE state = 'down'), "
            "count(*) FILTER (WHERE state = 'degraded') FROM site_state",
            {}, st);
        if (!st.ok()) {
            return st;
        }
        for (int i = 0; i < 3; ++i) {
            c.by_state[i] = integer(r.get(), 0, i);
            c.total += c.by_state[i];
        }
        r = l.run("SELECT DISTINCT site_group FROM site_state WHERE site_group IS NOT NULL ORDER BY 1 LIMIT 500", {},
                  st);
        if (!st.ok()) {
            return st;
        }
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            c.groups.emplace_back(PQgetvalue(r.get(), i, 0));
        }
        keep(all_key, c);
        all = std::move(c);
    }
    std::copy(std::begin(all->by_state), std::end(all->by_state), std::begin(out.counts));
    out.groups = all->groups;
    out.total = all->total;
    if (!q.search.empty() || !q.state.empty() || !q.group.empty()) {
        auto key = q.search + '\0' + q.state + '\0' + q.group;
        auto matching = lookup(key);
        if (!matching) {
            Counts c;
            c.at = now;
            r = l.run(fmt::format("SELECT count(*) FROM site_state WHERE {}", match), {pattern, q.state, q.group}, st);
            if (!st.ok()) {
                return st;
            }
            c.total = integer(r.get(), 0, 0);
            keep(key, c);
            matching = std::move(c);
        }
        out.total = matching->total;
    }
    // The page first (an index range in the order below: migrations' site_state_page_order),
    // then its sites' uptime: one index probe per listed site, not per site.
    const std::string order = "CASE state WHEN 'down' THEN 0 WHEN 'degraded' THEN 1 ELSE 2 END, site";
    r = l.run(fmt::format("WITH page AS (SELECT * FROM site_state WHERE {} ORDER BY {} LIMIT $4 OFFSET $5) "
                          "SELECT {}, (SELECT sum(h.ok_checks)::float8 / nullif(sum(h.checks), 0) FROM metrics_hourly "
                          "h WHERE h.name = s.site AND h.bucket >= date_trunc('hour', now()) - interval '23 hours') "
                          "FROM page s ORDER BY {}",
                          match, order, kSummaryColumns, order),
              {pattern, q.state, q.group, std::to_string(q.per_page), std::to_string((q.page - 1) * q.per_page)}, st);
    if (!st.ok()) {
        return st;
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        SiteSummary s;
        read_summary(r.get(), i, s);
        s.uptime_24h = number(r.get(), i, kSummaryCount);
        out.sites.push_back(std::move(s));
    }
    return Status::success();
}

Status Store::site(const std::string& name, SiteDetail& out, bool& found) {
    std::string error;
    Lease l{*this, acquire(error)};
    if (l.conn == nullptr) {
        return Status::error(error);
    }
    Status st = Status::success();
    auto r = l.run("SELECT " + kSummaryColumns + " FROM site_state s WHERE s.site = $1", {name}, st);
    if (!st.ok()) {
        return st;
    }
    found = PQntuples(r.get()) == 1;
    if (!found) {
        return Status::success();
    }
    read_summary(r.get(), 0, out.summary);
    r = l.run(
        "SELECT w, sum(checks), sum(ok_checks), sum(ok_checks)::float8 / nullif(sum(checks), 0), "
        "sum(response_time_sum) / nullif(sum(checks), 0), "
        // Within the period's own min and max: a bucket is 26% wide, the extremes are exact.
        "least(greatest(vigil_hist_quantile(vigil_hist_sum(histogram), 0.5), min(response_time_min)), "
        "max(response_time_max)), least(greatest(vigil_hist_quantile(vigil_hist_sum(histogram), 0.95), "
        "min(response_time_min)), max(response_time_max)) FROM ("
        "SELECT 1 AS w, * FROM metrics_hourly WHERE name = $1 AND bucket >= date_trunc('hour', now()) - interval '23 "
        "hours' UNION ALL "
        "SELECT 2, * FROM metrics_hourly WHERE name = $1 AND bucket >= date_trunc('hour', now()) - interval '167 "
        "hours' "
        "UNION ALL "
        "SELECT 3, * FROM metrics_daily WHERE name = $1 AND bucket >= date_trunc('day', now()) - interval '29 days' "
        "UNION ALL "
        "SELECT 4, * FROM metrics_daily WHERE name = $1 AND bucket >= date_trunc('day', now()) - interval '89 days') x "
        "GROUP BY w",
        {name}, st);
    if (!st.ok()) {
        return st;
    }
    Window* windows[] = {&out.h24, &out.d7, &out.d30, &out.d90};
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        auto w = integer(r.get(), i, 0);
        if (w < 1 || w > 4) {
            continue;
        }
        auto& win = *windows[w - 1];
        win.checks = integer(r.get(), i, 1);
        win.ok_checks = integer(r.get(), i, 2);
        win.uptime = number(r.get(), i, 3);
        win.avg = number(r.get(), i, 4);
        win.p50 = number(r.get(), i, 5);
        win.p95 = number(r.get(), i, 6);
    }
    r = l.run(
        "SELECT to_char(d, 'YYYY-MM-DD'), coalesce(m.checks, 0), coalesce(m.ok_checks, 0) FROM "
        "generate_series(date_trunc('day', now()) - interval '89 days', date_trunc('day', now()), interval '1 day') d "
        "LEFT JOIN (SELECT bucket, sum(checks) AS checks, sum(ok_checks) AS ok_checks FROM metrics_daily WHERE name = "
        "$1 AND bucket >= date_trunc('day', now()) - interval '89 days' GROUP BY bucket) m ON m.bucket = d ORDER BY d",
        {name}, st);
    if (!st.ok()) {
        return st;
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        out.days.push_back({PQgetvalue(r.get(), i, 0), integer(r.get(), i, 1), integer(r.get(), i, 2)});
    }
    r = l.run("SELECT " + iso("bucket") +
                  ", sum(response_time_sum) / sum(checks), sum(ok_checks)::float8 / sum(checks) FROM metrics_hourly "
                  "WHERE name = $1 AND checks > 0 AND bucket >= date_trunc('hour', now()) - interval '167 hours' "
                  "GROUP BY bucket ORDER BY bucket",
              {name}, st);
    if (!st.ok()) {
        return st;
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        out.hours.push_back({PQgetvalue(r.get(), i, 0), *number(r.get(), i, 1), *number(r.get(), i, 2)});
    }
    // The latest row of the last days only: the partitions of older days are not read.
    r = l.run("SELECT " + iso("tls_not_after") +
                  " FROM metrics WHERE name = $1 AND \"timestamp\" > now() - interval '3 days' AND tls_not_after IS "
                  "NOT NULL ORDER BY \"timestamp\" DESC LIMIT 1",
              {name}, st);
    if (!st.ok()) {
        return st;
    }
    if (PQntuples(r.get()) == 1) {
        out.tls_not_after = PQgetvalue(r.get(), 0, 0);
    }
    if (out.summary.kind == "dns" || out.summary.kind == "icmp") {
        r = l.run(
            "SELECT rcode, answers, packet_loss, rtt_avg_ms FROM metrics WHERE name = $1 AND \"timestamp\" > "
            "now() - interval '3 days' ORDER BY \"timestamp\" DESC LIMIT 1",
            {name}, st);
        if (!st.ok()) {
            return st;
        }
        if (PQntuples(r.get()) == 1) {
            out.last_result = {text(r.get(), 0, 0), text(r.get(), 0, 1), number(r.get(), 0, 2), number(r.get(), 0, 3)};
        }
    }
    r = l.run("SELECT " + iso("at") +
                  ", from_state, to_state, reason, cause, location FROM site_events WHERE site = $1 ORDER BY at DESC, "
                  "id DESC LIMIT 20",
              {name}, st);
    if (!st.ok()) {
        return st;
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        out.incidents.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2),
                                 PQgetvalue(r.get(), i, 3), text(r.get(), i, 4), text(r.get(), i, 5)});
    }
    // Each location's state and its own uptime over 24 h (the rollups are kept per location).
    r = l.run("SELECT location, state, " + iso("since") + ", cause, voting, " + iso("last_timestamp") +
                  ", nullif(concat_ws(': ', last_error, last_error_detail), ''), (SELECT sum(h.ok_checks)::float8 / "
                  "nullif(sum(h.checks), 0) FROM metrics_hourly h WHERE h.name = l.site AND h.location = l.location "
                  "AND h.bucket >= date_trunc('hour', now()) - interval '23 hours') FROM site_location_state l "
                  "WHERE site = $1 ORDER BY location LIMIT 200",
              {name}, st);
    if (!st.ok()) {
        return st;
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        LocationRow row;
        row.location = PQgetvalue(r.get(), i, 0);
        row.state = PQgetvalue(r.get(), i, 1);
        row.since = PQgetvalue(r.get(), i, 2);
        row.cause = text(r.get(), i, 3);
        row.voting = PQgetvalue(r.get(), i, 4)[0] == 't';
        row.last_check = text(r.get(), i, 5);
        row.last_error = text(r.get(), i, 6);
        row.uptime_24h = number(r.get(), i, 7);
        out.locations.push_back(std::move(row));
    }
    return Status::success();
}

}  // namespace vigil::status_page
