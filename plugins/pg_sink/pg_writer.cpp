// SPDX-License-Identifier: Apache-2.0
#include "pg_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/core.h>

#include "array_literal.hpp"
#include "pg_result.hpp"
#include "sqlstate.hpp"
#include "vigil/redact.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_sink {

using pg::chomp;
using pg::error_field;
using pg::ok;
using pg::Result;

namespace {

// The INSERT from the staging table, of every staged row (`one_row`: of the row whose ord is $1).
std::string insert_sql(const std::string& table, const std::string& columns, const std::string& conflict_key,
                       const std::string& returning, bool one_row) {
    return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}{} ORDER BY ord ON CONFLICT ({}) DO NOTHING{}{}", table,
                       columns, columns, Writer::kStage, one_row ? " WHERE ord = $1" : "", conflict_key,
                       returning.empty() ? "" : " RETURNING ", returning);
}

}  // namespace

WriterCalls& writer_calls() {
    static WriterCalls calls;
    return calls;
}

std::optional<ChunkResult> Writer::run(const char* statement) {
    Result r(writer_calls().exec(conn_.get(), statement));
    if (!ok(r.get())) {
        return fail(statement, r.get());
    }
    return std::nullopt;
}

Writer::Writer(const Config& config, Logger log, Counter& staged, StateCache* cache)
    : config_(config), log_(std::move(log)), staged_(staged), cache_(cache) {}

Writer::~Writer() { disconnect(); }

void Writer::disconnect() {
    {
        Lock lock(cancel_mutex_);
        cancel_.reset();
    }
    conn_.reset();
}

void Writer::interrupt() {
    interrupted_ = true;
    Lock lock(cancel_mutex_);
    if (cancel_ != nullptr) {
        char err[256];
        PQcancel(cancel_.get(), err, sizeof err);
    }
}

Status Writer::connect(std::vector<std::string>* missing) {
    disconnect();
    std::string error;
    conn_ = pg::connect(config_.url, config_.application_name, error);
    if (conn_ == nullptr) {
        return Status::error(error);
    }
    host_ = pg::describe(conn_.get());
    Result quiet(PQexec(conn_.get(), "SET client_min_messages = warning"));

    // The table's columns, their types and NOT NULL flags: the staging table mirrors the ones
    // we write, so a bad value fails at COPY, where PostgreSQL names its line.
    auto table = quote_identifier(config_.table);
    const char* tparams[] = {table.c_str()};
    Result r(PQexecParams(conn_.get(),
                          "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
                          "FROM pg_attribute a WHERE a.attrelid = to_regclass($1) "
                          "AND a.attnum > 0 AND NOT a.attisdropped",
                          1, nullptr, tparams, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        auto st = Status::error(fmt::format("{}: reading the columns of {}: {}", host_, config_.table,
                                            chomp(PQresultErrorMessage(r.get()))));
        disconnect();
        return st;
    }
    if (PQntuples(r.get()) == 0) {
        disconnect();
        return Status::error(fmt::format("{}: table {} does not exist (run `agent migrate`, or set migrate: true)",
                                         host_, config_.table));
    }
    std::map<std::string, std::pair<std::string, bool>> table_columns;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        table_columns[PQgetvalue(r.get(), i, 0)] = {PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2)[0] == 't'};
    }
    columns_.clear();
    std::string stage_columns = "ord integer NOT NULL";
    column_list_.clear();
    for (const auto& [f, column] : config_.columns) {
        auto it = table_columns.find(column);
        if (it == table_columns.end()) {
            if (f == field("check_id")) {
                disconnect();
                return Status::error(
                    fmt::format("{}: table {} has no column \"{}\" for check_id, which makes "
                                "writes idempotent",
                                host_, config_.table, column));
            }
            if (missing != nullptr) {
                missing->push_back(std::string(field_name(f)));
            }
            continue;
        }
        columns_.emplace_back(f, column);
        auto quoted = quote_identifier(column);
        stage_columns += fmt::format(", {} {}{}", quoted, it->second.first, it->second.second ? " NOT NULL" : "");
        column_list_ += (column_list_.empty() ? "" : ", ") + quoted;
    }
    auto check_id_column = quote_identifier(config_.columns[field("check_id")].second);
    // The unique key that makes a re-sent check a conflict: (check_id) on a plain table, (check_id,
    // "timestamp") on a partitioned one (its unique keys must hold the partition column).
    const char* kparams[] = {table.c_str(), config_.columns[field("check_id")].second.c_str()};
    r.reset(PQexecParams(conn_.get(),
                         "SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) FROM pg_index i "
                         "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                         "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                         "WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL "
                         "GROUP BY i.indexrelid HAVING bool_or(a.attname = $2) ORDER BY count(*) LIMIT 1",
                         2, nullptr, kparams, nullptr, nullptr, 0));
    if (!ok(r.get()) || PQntuples(r.get()) == 0) {
        disconnect();
        return Status::error(
            fmt::format("{}: table {} has no unique key on column \"{}\" (check_id), which makes "
                        "writes idempotent",
                        host_, config_.table, config_.columns[field("check_id")].second));
    }
    std::string conflict_key = PQgetvalue(r.get(), 0, 0);
    if (config_.rollups.enabled) {
        for (auto* period : {"_hourly", "_daily", "_days_dirty"}) {
            auto name = config_.table + period;
            const char* p[] = {name.c_str()};
            // The sums are kept per location since the migrations' rollups_per_location.
            r.reset(PQexecParams(conn_.get(),
                                 "SELECT to_regclass($1) IS NOT NULL AND to_regproc('vigil_roll_up_days') IS NOT NULL "
                                 "AND ($1 LIKE '%_days_dirty' OR EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
                                 "to_regclass($1) AND attname = 'location' AND NOT attisdropped))",
                                 1, nullptr, p, nullptr, nullptr, 0));
            if (!ok(r.get()) || PQgetvalue(r.get(), 0, 0)[0] != 't') {
                disconnect();
                return Status::error(fmt::format(
                    "{}: `rollups:` needs the table {} (run `agent migrate`, or set migrate: true)", host_, name));
            }
        }
        hourly_sql_ = rollup_upsert_sql(config_.table + "_hourly");
        auto dirty = quote_identifier(config_.table + "_days_dirty");
        dirty_sql_ = fmt::format(
            "INSERT INTO {} (day) SELECT d FROM unnest($1::date[]) AS u(d) WHERE NOT EXISTS (SELECT 1 FROM {} "
            "WHERE day = u.d) ORDER BY d ON CONFLICT DO NOTHING",
            dirty, dirty);
    }
    // A table partitioned as the migrations make metrics gets its days made ahead by the upkeep,
    // with or without a retention: otherwise every row would land in the default partition.
    r.reset(PQexecParams(conn_.get(),
                         "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass($1)) "
                         "AND to_regproc('vigil_maintain_partitions') IS NOT NULL",
                         1, nullptr, tparams, nullptr, nullptr, 0));
    partitioned_ = ok(r.get()) && PQgetvalue(r.get(), 0, 0)[0] == 't';
    if (config_.retention) {
        if (!partitioned_) {
            disconnect();
            return Status::error(
                fmt::format("{}: `retention:` needs table {} partitioned by day, as `agent migrate` "
                            "makes metrics",
                            host_, config_.table));
        }
    }
    // With `state:` or `rollups:` the rows this transaction stored, and no other, come back:
    // they are what moves the sites' states and sums.
    auto returning = config_.state.enabled || config_.rollups.enabled ? check_id_column : std::string();
    insert_sql_ = insert_sql(table, column_list_, conflict_key, returning, false);
    insert_one_sql_ = insert_sql(table, column_list_, conflict_key, returning, true);
    if (config_.state.enabled) {
        r.reset(PQexec(conn_.get(),
                       "SELECT to_regclass('site_state') IS NOT NULL AND to_regclass('site_events') IS NOT NULL AND "
                       "to_regclass('site_location_state') IS NOT NULL AND "
                       "(SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('site_state') AND attname IN "
                       "('site_group', 'kind') AND NOT attisdropped) = 2"));
        if (!ok(r.get()) || PQgetvalue(r.get(), 0, 0)[0] != 't') {
            disconnect();
            return Status::error(
                fmt::format("{}: `state:` needs the tables site_state (with site_group and kind), site_location_state "
                            "and site_events "
                            "(run "
                            "`agent migrate`, or "
                            "set migrate: true)",
                            host_));
        }
    }
    // ON COMMIT DELETE ROWS: the staging table is empty at the start of every transaction.
    r.reset(PQexec(conn_.get(), fmt::format("CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS",
                                            kStage, stage_columns)
                                    .c_str()));
    if (!ok(r.get())) {
        auto st = Status::error(
            fmt::format("{}: creating the staging table: {}", host_, chomp(PQresultErrorMessage(r.get()))));
        disconnect();
        return st;
    }
    Lock lock(cancel_mutex_);
    cancel_.reset(PQgetCancel(conn_.get()));
    return Status::success();
}

ChunkResult Writer::fail(const std::string& what, PGresult* r) {
    return fail(what, error_field(r, PG_DIAG_MESSAGE_PRIMARY), error_field(r, PG_DIAG_SQLSTATE));
}

ChunkResult Writer::fail(const std::string& what, std::string message, const std::string& state) {
    ChunkResult out;
    out.retry = true;
    if (message.empty()) {
        // The connection's own error (lost, reset, refused), scrubbed as a connect error is.
        message = scrub_conninfo(chomp(PQerrorMessage(conn_.get())), config_.url.reveal());
    }
    out.error = fmt::format("PostgreSQL {}: {}: {}{}", host_, what, message,
                            state.empty() ? "" : fmt::format(" (SQLSTATE {})", state));
    if (interrupted_) {
        out.error += " (interrupted at the drain deadline)";
    }
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        disconnect();  // reconnect at the next write
    } else if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
        Result rb(PQexec(conn_.get(), "ROLLBACK"));
    }
    return out;
}

ChunkResult Writer::write(const Batch& batch, const std::vector<std::size_t>& indices) {
    if (!connected()) {
        if (auto st = connect(); !st.ok()) {
            return {true, st.message(), {}};
        }
    }
    interrupted_ = false;
    Refused refused;
    std::vector<std::size_t> rows;
    for (auto i : indices) {
        Field f;
        if (find_nul(batch.records[i].check, f)) {
            refused[i] = {"22021",
                          fmt::format("\"{}\" holds a NUL byte, which PostgreSQL text cannot store", field_name(f))};
        } else {
            rows.push_back(i);
        }
    }
    if (auto failed = run("BEGIN")) {
        return *failed;
    }
    if (auto failed = stage(batch, rows, refused)) {
        return *failed;
    }
    bool row_by_row = false;
    std::unordered_map<std::string_view, std::size_t> by_id;  // check_id -> batch index, for RETURNING
    bool returning = config_.state.enabled || config_.rollups.enabled;
    if (returning) {
        by_id.reserve(rows.size());
    }
    std::vector<std::size_t> fresh;
    if (returning) {
        for (auto i : rows) {
            by_id.emplace(batch.records[i].check.check_id, i);
        }
    }
    Result r;
    if (!rows.empty()) {
        r.reset(PQexec(conn_.get(), insert_sql_.c_str()));
        if (!ok(r.get())) {
            if (classify_sqlstate(error_field(r.get(), PG_DIAG_SQLSTATE)) != SqlFate::RejectRow) {
                return fail(fmt::format("INSERT INTO {}", config_.table), r.get());
            }
            row_by_row = true;  // a row broke a constraint of the table itself: find which
        } else {
            collect_inserted(r.get(), by_id, fresh);
        }
    }
    if (row_by_row) {
        // Each statement's result is checked: one that failed unnoticed would leave the rest
        // running outside a transaction, or in an aborted one that refuses every later row.
        if (auto failed = run("ROLLBACK")) {
            return *failed;
        }
        if (auto failed = run("BEGIN")) {
            return *failed;
        }
        auto copied = copy_rows(batch, rows, 0, rows.size());
        if (!copied.ok) {
            return fail("COPY into the staging table", copied.message, copied.sqlstate);
        }
        for (auto i : rows) {
            if (auto failed = run("SAVEPOINT vigil_row")) {
                return *failed;
            }
            auto ord = std::to_string(i);
            const char* p[] = {ord.c_str()};
            Result ins(PQexecParams(conn_.get(), insert_one_sql_.c_str(), 1, nullptr, p, nullptr, nullptr, 0));
            if (ok(ins.get())) {
                collect_inserted(ins.get(), by_id, fresh);
                if (auto failed = run("RELEASE SAVEPOINT vigil_row")) {
                    return *failed;
                }
                continue;
            }
            auto state = error_field(ins.get(), PG_DIAG_SQLSTATE);
            if (classify_sqlstate(state) != SqlFate::RejectRow) {
                return fail(fmt::format("INSERT INTO {}", config_.table), ins.get());
            }
            refused[i] = {state, error_field(ins.get(), PG_DIAG_MESSAGE_PRIMARY)};
            if (auto failed = run("ROLLBACK TO SAVEPOINT vigil_row")) {
                return *failed;
            }
        }
    }
    ChunkResult out;
    auto dl = fmt::format(
        "INSERT INTO {} (check_id, origin, sqlstate, reason, record) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (check_id) DO NOTHING",
        quote_identifier(config_.dead_letter_table));
    for (const auto& [i, why] : refused) {
        const auto& rec = batch.records[i];
        std::string id = rec.check.check_id.substr(0, rec.check.check_id.find('\0'));
        std::string origin = rec.origin.substr(0, rec.origin.find('\0'));
        auto json = encode_json(rec.check);
        const char* p[] = {id.empty() ? nullptr : id.c_str(), origin.empty() ? nullptr : origin.c_str(),
                           why.first.c_str(), why.second.c_str(), json.c_str()};
        Result ins(PQexecParams(conn_.get(), dl.c_str(), 5, nullptr, p, nullptr, nullptr, 0));
        if (!ok(ins.get())) {
            return fail(fmt::format("INSERT INTO dead-letter table {}", config_.dead_letter_table), ins.get());
        }
        out.rejected.push_back({i, fmt::format("SQLSTATE {}: {}", why.first, why.second), true});
    }
    if (config_.rollups.enabled) {
        if (auto failed = update_rollups(batch, fresh)) {
            return *failed;
        }
    }
    // Last before COMMIT: the site_events lock it may take is then held for the shortest time.
    events_ = 0;
    pending_.clear();
    if (config_.state.enabled) {
        if (auto failed = update_state(batch, std::move(fresh))) {
            return *failed;
        }
    }
    if (auto failed = run("COMMIT")) {
        return *failed;
    }
    out.events = events_;
    if (cache_ != nullptr) {
        cache_->put(pending_);
    }
    return out;
}

std::optional<ChunkResult> Writer::update_rollups(const Batch& batch, const std::vector<std::size_t>& fresh) {
    if (fresh.empty()) {
        return std::nullopt;
    }
    Rollups hourly;
    std::set<Timestamp> days;
    roll_up(batch, fresh, hourly, days);
    auto params = rollup_parameters(hourly);
    std::array<const char*, std::tuple_size_v<decltype(params)>> p{};
    for (std::size_t i = 0; i < params.size(); ++i) {
        p[i] = params[i].c_str();
    }
    Result r(PQexecParams(conn_.get(), hourly_sql_.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr,
                          nullptr, 0));
    if (!ok(r.get())) {
        return fail(fmt::format("INSERT INTO {}_hourly", config_.table), r.get());
    }
    // The days to sum again into the daily rollups. Only a mark not yet there is inserted: two
    // writers inserting the same one would make the second wait for the first's COMMIT.
    ArrayLiteral marks;
    for (auto d : days) {
        marks.add(format_timestamp(d).substr(0, 10));
    }
    const char* m[] = {marks.c_str()};
    r.reset(PQexecParams(conn_.get(), dirty_sql_.c_str(), 1, nullptr, m, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return fail(fmt::format("INSERT INTO {}_days_dirty", config_.table), r.get());
    }
    return std::nullopt;
}

Status Writer::maintain(std::vector<std::string>& done, bool hourly) {
    if (!connected()) {
        if (auto st = connect(); !st.ok()) {
            return st;
        }
    }
    auto run = [&](const std::string& what, const char* sql, std::vector<std::string> values) -> Status {
        std::vector<const char*> p;
        for (const auto& v : values) {
            p.push_back(v.c_str());
        }
        Result r(PQexecParams(conn_.get(), sql, static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0));
        if (!ok(r.get())) {
            auto out = fail(what, r.get());
            return Status::error(out.error);
        }
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            done.emplace_back(PQgetvalue(r.get(), i, 0));
        }
        return Status::success();
    };
    auto seconds = [](Duration d) {
        return fmt::format("{} seconds", std::chrono::duration_cast<std::chrono::seconds>(d).count());
    };
    if (config_.rollups.enabled) {
        if (auto st = run("daily rollups",
                          "SELECT 'daily rollups summed again for ' || count(*) || ' days (late rows)' FROM "
                          "vigil_roll_up_days($1, (now() - $2::interval)::date) HAVING count(*) > 1",
                          {config_.table, seconds(config_.rollups.hourly_retention)});
            !st.ok()) {
            return st;
        }
    }
    if (!hourly) {
        return Status::success();
    }
    if (partitioned_) {
        auto st =
            config_.retention
                ? run("partition upkeep", "SELECT vigil_maintain_partitions($1::regclass, $2::interval, 2)",
                      {config_.table, seconds(*config_.retention)})
                : run("partition upkeep", "SELECT vigil_maintain_partitions($1::regclass, NULL, 2)", {config_.table});
        if (!st.ok()) {
            return st;
        }
    }
    if (config_.rollups.enabled) {
        for (const auto& [period, keep] : {std::pair{"_hourly", config_.rollups.hourly_retention},
                                           std::pair{"_daily", config_.rollups.daily_retention}}) {
            auto table = config_.table + period;
            auto sql = fmt::format(
                "WITH d AS (DELETE FROM {} WHERE bucket < now() - $1::interval RETURNING 1) "
                "SELECT format('deleted %s rows older than %s from {}', count(*), justify_interval($1::interval)) FROM "
                "d HAVING count(*) > 0",
                quote_identifier(table), table);
            if (auto st = run("DELETE FROM " + table, sql.c_str(), {seconds(keep)}); !st.ok()) {
                return st;
            }
        }
    }
    return Status::success();
}

}  // namespace vigil::plugins::pg_sink
