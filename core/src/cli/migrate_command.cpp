// SPDX-License-Identifier: Apache-2.0
#include "cli/migrate_command.hpp"

#include <cstdlib>
#include <iostream>

#include <fmt/core.h>

#include "app/app.hpp"
#include "secret_file.hpp"
#include "vigil/migrate.hpp"

namespace vigil::cli {

int run_migrate(const MigrateOptions& options) {
    std::string url = options.database_url;
    if (!options.database_url_file.empty()) {
        std::string error;
        auto content = config::read_secret_file(std::filesystem::current_path(), options.database_url_file, error);
        if (!content) {
            std::cerr << "agent migrate: error: --database-url-file: " << error << '\n';
            return app::kExitUsage;
        }
        url = *content;
    }
    if (url.empty()) {
        const char* env = std::getenv("DATABASE_URL");
        url = env != nullptr ? env : "";
    }
    if (url.empty()) {
        std::cerr << "agent migrate: error: no database: set DATABASE_URL, or pass --database-url-file FILE "
                     "(or --database-url URL)\n";
        return app::kExitUsage;
    }
    auto dir = options.dir.empty() ? migrate::default_dir() : options.dir;
    migrate::Migrator m(url, dir, [](const std::string& line) { std::cout << line << '\n'; });
    if (options.status) {
        std::vector<migrate::Entry> entries;
        if (auto st = m.status(entries); !st.ok()) {
            std::cerr << "agent migrate: error: " << st.message() << '\n';
            return app::kExitRuntime;
        }
        std::size_t applied = 0;
        for (const auto& e : entries) {
            std::cout << (e.applied ? "[X] " : "[ ] ") << e.migration.file.filename().string() << '\n';
            applied += e.applied ? 1 : 0;
        }
        std::cout << fmt::format("\nApplied: {}\nPending: {}\n", applied, entries.size() - applied);
        return app::kExitOk;
    }
    if (options.down) {
        std::string version;
        if (auto st = m.down(&version); !st.ok()) {
            std::cerr << "agent migrate: error: " << st.message() << '\n';
            return app::kExitRuntime;
        }
        std::cout << "rolled back " << version << '\n';
        return app::kExitOk;
    }
    std::vector<std::string> applied;
    if (auto st = m.up(&applied); !st.ok()) {
        std::cerr << "agent migrate: error: " << st.message() << '\n';
        return app::kExitRuntime;
    }
    std::cout << (applied.empty()
                      ? "the database is up to date\n"
                      : fmt::format("applied {} migration(s); the database is up to date\n", applied.size()));
    return app::kExitOk;
}

}  // namespace vigil::cli
