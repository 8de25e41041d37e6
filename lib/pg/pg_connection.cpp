// SPDX-License-Identifier: Apache-2.0
#include "pg_connection.hpp"

#include <fmt/core.h>

#include "pg_result.hpp"
#include "vigil/migrate.hpp"
#include "vigil/redact.hpp"

namespace vigil::pg {

Migrations migrations_options(const ConfigNode& node, Diagnostics& diags) {
    Migrations m;
    m.migrate = node.get_bool("migrate");
    auto dir = node.get_string("migrations_dir");
    if (!dir.empty()) {
        m.dir = node.resolve_path(dir);
        if (!std::filesystem::is_directory(m.dir)) {
            diags.error(node.location_of("migrations_dir"), node.path_of("migrations_dir"),
                        fmt::format("\"{}\" is not a directory", m.dir.string()));
        }
    }
    return m;
}

Status apply_migrations(const Secret& url, const Migrations& m, const Logger& log) {
    if (!m.migrate) {
        return Status::success();
    }
    auto dir = m.dir.empty() ? migrate::default_dir() : m.dir;
    migrate::Migrator migrator(url.reveal(), dir, [&](const std::string& line) { log.info("{}", line); });
    std::vector<std::string> applied;
    if (auto st = migrator.up(&applied); !st.ok()) {
        return Status::error(fmt::format("migrations from {}: {}", dir.string(), st.message()));
    }
    log.info("migrations from {}: {} applied, the database is up to date", dir.string(), applied.size());
    return Status::success();
}

Conn connect(const Secret& url, const std::string& application_name, std::string& error) {
    const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
    const char* values[] = {url.reveal().c_str(), application_name.c_str(), "10", nullptr};
    Conn conn(PQconnectdbParams(keys, values, 1));
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        // libpq may quote the connection string's bad part, the password included.
        error = fmt::format("cannot connect to PostgreSQL: {}",
                            scrub_conninfo(chomp(PQerrorMessage(conn.get())), url.reveal()));
        return nullptr;
    }
    return conn;
}

std::string describe(PGconn* conn) { return fmt::format("{}:{}/{}", PQhost(conn), PQport(conn), PQdb(conn)); }

}  // namespace vigil::pg
