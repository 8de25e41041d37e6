// SPDX-License-Identifier: Apache-2.0
#include "vigil/migrate.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include "pg_handles.hpp"

#include "vigil/redact.hpp"

namespace vigil::migrate {

namespace {

// The advisory lock every Vigil migrator takes ("vigilmig" in ASCII): one migrator at a time.
constexpr const char* kLockKey = "8531310427658832231";

using pg::Conn;
using pg::Result;

std::string trim_message(const char* m) {
    std::string s = m != nullptr ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

// One line: the primary message with its SQLSTATE.
std::string describe(const PGresult* r, PGconn* c) {
    if (r == nullptr) {
        return trim_message(PQerrorMessage(c));
    }
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (primary == nullptr) {
        return trim_message(PQresultErrorMessage(r));
    }
    return fmt::format("{} (SQLSTATE {})", primary, state != nullptr ? state : "?");
}

bool ok(const PGresult* r) {
    auto s = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

Status exec(PGconn* c, const std::string& sql, Result* out = nullptr) {
    Result r(PQexec(c, sql.c_str()));
    if (!ok(r.get())) {
        return Status::error(describe(r.get(), c));
    }
    if (out != nullptr) {
        *out = std::move(r);
    }
    return Status::success();
}

// The line of the migration file where PostgreSQL's error position points.
int error_line(const PGresult* r, const std::string& sql, int first_line) {
    const char* pos = r != nullptr ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : nullptr;
    if (pos == nullptr) {
        return first_line;
    }
    auto offset = static_cast<std::size_t>(std::max(1, std::atoi(pos)) - 1);
    return first_line +
           static_cast<int>(
               std::count(sql.begin(), sql.begin() + static_cast<std::ptrdiff_t>(std::min(offset, sql.size())), '\n'));
}

struct SessionImpl {
    Conn conn;
    Status open(const std::string& conninfo) {
        conn.reset(PQconnectdb(conninfo.c_str()));
        if (PQstatus(conn.get()) != CONNECTION_OK) {
            // libpq may quote the connection string's bad part, the password included.
            return Status::error(fmt::format("cannot connect to the database: {}",
                                             scrub_conninfo(trim_message(PQerrorMessage(conn.get())), conninfo)));
        }
        Result quiet(PQexec(conn.get(), "SET client_min_messages = warning"));
        return Status::success();
    }
    Status lock() { return exec(conn.get(), fmt::format("SELECT pg_advisory_lock({})", kLockKey)); }
    void unlock() { Result r(PQexec(conn.get(), fmt::format("SELECT pg_advisory_unlock({})", kLockKey).c_str())); }
    Status ensure_table() {
        return exec(conn.get(),
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version character varying(128) NOT NULL PRIMARY KEY)");
    }
    Status applied(std::set<std::string>& out) {
        Result r;
        if (auto st = exec(conn.get(), "SELECT version FROM schema_migrations ORDER BY version", &r); !st.ok()) {
            return st;
        }
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            out.insert(PQgetvalue(r.get(), i, 0));
        }
        return Status::success();
    }
    // Runs one section and its bookkeeping statement, in a transaction unless told otherwise.
    Status run(const Migration& m, const std::string& sql, int line, bool transaction, const std::string& record) {
        PGconn* c = conn.get();
        auto where = m.file.filename().string();
        if (transaction) {
            if (auto st = exec(c, "BEGIN"); !st.ok()) {
                return st;
            }
        }
        Result r(PQexec(c, sql.c_str()));
        if (!ok(r.get())) {
            auto message = fmt::format("{}:{}: {}", where, error_line(r.get(), sql, line), describe(r.get(), c));
            if (transaction) {
                Result rb(PQexec(c, "ROLLBACK"));
                message += "; rolled back: the database is as it was before this migration";
            }
            return Status::error(message);
        }
        const char* params[] = {m.version.c_str()};
        Result b(PQexecParams(c, record.c_str(), 1, nullptr, params, nullptr, nullptr, 0));
        if (!ok(b.get())) {
            auto message = fmt::format("{}: recording version {}: {}", where, m.version, describe(b.get(), c));
            if (transaction) {
                Result rb(PQexec(c, "ROLLBACK"));
            }
            return Status::error(message);
        }
        if (transaction) {
            if (auto st = exec(c, "COMMIT"); !st.ok()) {
                return Status::error(fmt::format("{}: commit failed: {}", where, st.message()));
            }
        }
        return Status::success();
    }
};

// "-- migrate:up transaction:false" -> section "up", transaction false.
bool parse_marker(const std::string& line, std::string& section, bool& transaction) {
    auto p = line.find_first_not_of(" \t");
    if (p == std::string::npos || line.compare(p, 11, "-- migrate:") != 0) {
        return false;
    }
    std::istringstream words(line.substr(p + 11));
    words >> section;
    transaction = true;
    for (std::string w; words >> w;) {
        if (w == "transaction:false") {
            transaction = false;
        }
    }
    return section == "up" || section == "down";
}

}  // namespace

std::vector<Migration> load(const std::filesystem::path& dir, std::string& error) {
    std::vector<Migration> out;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        error = fmt::format("{}: not a directory of migrations", dir.string());
        return {};
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        auto name = entry.path().filename().string();
        if (entry.path().extension() != ".sql") {
            continue;
        }
        auto digits = name.find_first_not_of("0123456789");
        if (digits == 0 || digits == std::string::npos) {
            error = fmt::format("{}: the name must start with a version number (dbmate: 20240101120000_name.sql)",
                                entry.path().string());
            return {};
        }
        Migration m;
        m.version = name.substr(0, digits);
        m.file = entry.path();
        std::ifstream in(entry.path());
        std::string line, section;
        bool transaction = true;
        for (int n = 1; std::getline(in, line); ++n) {
            std::string s;
            if (parse_marker(line, s, transaction)) {
                section = s;
                (s == "up" ? m.up_line : m.down_line) = n + 1;
                (s == "up" ? m.up_transaction : m.down_transaction) = transaction;
                continue;
            }
            if (section == "up") {
                m.up += line + "\n";
            } else if (section == "down") {
                m.down += line + "\n";
            }
        }
        if (m.up_line == 0) {
            error = fmt::format("{}: no \"-- migrate:up\" section", entry.path().string());
            return {};
        }
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].version == out[i - 1].version) {
            error = fmt::format("{} and {} have the same version {}", out[i - 1].file.filename().string(),
                                out[i].file.filename().string(), out[i].version);
            return {};
        }
    }
    return out;
}

std::filesystem::path default_dir() {
    if (const char* env = std::getenv("VIGIL_MIGRATIONS_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(VIGIL_MIGRATIONS_INSTALL_DIR, ec)) {
        return VIGIL_MIGRATIONS_INSTALL_DIR;
    }
    return VIGIL_MIGRATIONS_SOURCE_DIR;
}

struct Migrator::Session : SessionImpl {};

Migrator::Migrator(std::string conninfo, std::filesystem::path dir, Log log)
    : conninfo_(std::move(conninfo)), dir_(std::move(dir)), log_(std::move(log)) {}

// Reads the directory, then connects: a bad file is reported before any connection is made.
Status Migrator::open(Session& s, std::vector<Migration>& migrations) {
    std::string error;
    migrations = load(dir_, error);
    if (!error.empty()) {
        return Status::error(error);
    }
    return s.open(conninfo_);
}

// Loads the directory, connects, takes the lock, makes sure schema_migrations exists and reads
// it, then runs `change` and releases the lock, whatever happened.
Status Migrator::locked(
    const std::function<Status(Session&, const std::vector<Migration>&, const std::set<std::string>&)>& change) {
    std::vector<Migration> migrations;
    Session s;
    if (auto st = open(s, migrations); !st.ok()) {
        return st;
    }
    if (auto st = s.lock(); !st.ok()) {
        return st;
    }
    std::set<std::string> applied;
    Status result = s.ensure_table();
    if (result.ok()) {
        result = s.applied(applied);
    }
    if (result.ok()) {
        result = change(s, migrations, applied);
    }
    s.unlock();
    return result;
}

Status Migrator::up(std::vector<std::string>* applied_out) {
    return locked([&](Session& s, const std::vector<Migration>& migrations, const std::set<std::string>& applied) {
        for (const auto& m : migrations) {
            if (applied.count(m.version) > 0) {
                continue;
            }
            if (log_) {
                log_(fmt::format("applying {}", m.file.filename().string()));
            }
            auto st =
                s.run(m, m.up, m.up_line, m.up_transaction, "INSERT INTO schema_migrations (version) VALUES ($1)");
            if (!st.ok()) {
                return st;
            }
            if (applied_out != nullptr) {
                applied_out->push_back(m.version);
            }
        }
        return Status::success();
    });
}

Status Migrator::down(std::string* rolled_back) {
    return locked([&](Session& s, const std::vector<Migration>& migrations, const std::set<std::string>& applied) {
        if (applied.empty()) {
            return Status::error("no migration is applied: nothing to roll back");
        }
        auto latest = *applied.rbegin();
        auto it =
            std::find_if(migrations.begin(), migrations.end(), [&](const Migration& m) { return m.version == latest; });
        if (it == migrations.end()) {
            return Status::error(fmt::format("version {} is applied but has no file in {}", latest, dir_.string()));
        }
        if (it->down_line == 0 || it->down.find_first_not_of(" \t\n") == std::string::npos) {
            return Status::error(
                fmt::format("{}: no \"-- migrate:down\" section to roll back with", it->file.filename().string()));
        }
        if (log_) {
            log_(fmt::format("rolling back {}", it->file.filename().string()));
        }
        auto st = s.run(*it, it->down, it->down_line, it->down_transaction,
                        "DELETE FROM schema_migrations WHERE version = $1");
        if (st.ok() && rolled_back != nullptr) {
            *rolled_back = latest;
        }
        return st;
    });
}

Status Migrator::status(std::vector<Entry>& entries) {
    std::vector<Migration> migrations;
    Session s;
    if (auto st = open(s, migrations); !st.ok()) {
        return st;
    }
    std::set<std::string> applied;
    Result exists;
    if (auto st = exec(s.conn.get(), "SELECT to_regclass('schema_migrations') IS NOT NULL", &exists); !st.ok()) {
        return st;
    }
    if (std::string(PQgetvalue(exists.get(), 0, 0)) == "t") {
        if (auto st = s.applied(applied); !st.ok()) {
            return st;
        }
    }
    for (auto& m : migrations) {
        bool is_applied = applied.count(m.version) > 0;
        entries.push_back({std::move(m), is_applied});
    }
    return Status::success();
}

}  // namespace vigil::migrate
