// SPDX-License-Identifier: Apache-2.0
// Opening a connection and applying migrations, as pg_sink and pg_events both do.
#pragma once

#include <libpq-fe.h>

#include <filesystem>
#include <string>

#include "pg_handles.hpp"
#include "vigil/config.hpp"
#include "vigil/log.hpp"
#include "vigil/status.hpp"

namespace vigil::pg {

/// The `migrate` and `migrations_dir` options, for a plugin's option table.
inline constexpr OptionSpec kMigrateOption{.key = "migrate",
                                           .type = OptionType::Bool,
                                           .default_value = "false",
                                           .description = "Apply pending migrations at start, under an advisory lock"};
inline constexpr OptionSpec kMigrationsDirOption{
    .key = "migrations_dir",
    .type = OptionType::String,
    .default_value = "",
    .description = "Directory of migrations for `migrate`; default: the installed ones"};

struct Migrations {
    bool migrate = false;
    std::filesystem::path dir;  // empty: vigil::migrate::default_dir()
};
/// Reads the two options; a migrations_dir that is not a directory is an error naming it.
Migrations migrations_options(const ConfigNode& node, Diagnostics& diags);
/// Applies what is pending (when `m.migrate`), logging each step.
Status apply_migrations(const Secret& url, const Migrations& m, const Logger& log);

/// Connects (a 10 s timeout, `application_name`). nullptr with `error` set on failure: the
/// message never holds the password libpq may quote.
Conn connect(const Secret& url, const std::string& application_name, std::string& error);
/// "host:port/database" of a connection, for messages.
std::string describe(PGconn* conn);
inline std::string describe(const Conn& conn) { return describe(conn.get()); }

}  // namespace vigil::pg
