// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <string>

namespace vigil::cli {

struct MigrateOptions {
    std::string database_url;  // empty: database_url_file, else $DATABASE_URL
    std::string database_url_file;
    std::filesystem::path dir;  // empty: vigil::migrate::default_dir()
    bool status = false;
    bool down = false;
};

/// `agent migrate`: applies pending migrations (or lists them, or rolls back the latest).
/// Returns the exit code.
int run_migrate(const MigrateOptions& options);

}  // namespace vigil::cli
