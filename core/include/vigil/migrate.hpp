// SPDX-License-Identifier: Apache-2.0
// SQL migrations in dbmate's format, recorded in dbmate's `schema_migrations` table, so a
// deployment already using dbmate keeps working. Used by `agent migrate` and by pg_sink's
// `migrate: true`. Lives in libvigil_migrate (linked with libpq), apart from the core SDK.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "vigil/status.hpp"
#include "vigil/visibility.hpp"

namespace vigil::migrate {

/// One file `<version>_<name>.sql` with `-- migrate:up` and `-- migrate:down` sections.
struct Migration {
    std::string version;  // the leading digits of the file name
    std::filesystem::path file;
    std::string up, down;
    int up_line = 0, down_line = 0;  // where each section's SQL starts, for error messages
    bool up_transaction = true;      // `-- migrate:up transaction:false` runs without one
    bool down_transaction = true;
};

/// Reads every *.sql file of `dir`, sorted by version. A file without a `-- migrate:up` section,
/// or two files with one version, is an error naming the file.
VIGIL_API std::vector<Migration> load(const std::filesystem::path& dir, std::string& error);

/// Where the migrations are when none is named: $VIGIL_MIGRATIONS_DIR, else the installed
/// /usr/share/vigil/migrations, else the source tree's migrations/ (running from a build tree).
VIGIL_API std::filesystem::path default_dir();

struct Entry {
    Migration migration;
    bool applied = false;
};

/// Applies and rolls back migrations on one database. Every change holds a session advisory
/// lock, so agents starting together apply each migration once; each migration runs in its own
/// transaction with its schema_migrations row, so a failed one leaves the database as it was.
class VIGIL_API Migrator {
  public:
    using Log = std::function<void(const std::string&)>;
    /// `conninfo`: a libpq URL ("postgresql://...") or keyword string.
    Migrator(std::string conninfo, std::filesystem::path dir, Log log = {});

    /// Applies every pending migration, in version order. `applied` gets their versions.
    Status up(std::vector<std::string>* applied = nullptr);
    /// Rolls back the most recently applied migration. `rolled_back` gets its version.
    Status down(std::string* rolled_back = nullptr);
    /// Every migration of the directory, and whether it is applied.
    Status status(std::vector<Entry>& entries);

  private:
    struct Session;
    Status open(Session& s, std::vector<Migration>& migrations);
    Status locked(
        const std::function<Status(Session&, const std::vector<Migration>&, const std::set<std::string>&)>& change);
    std::string conninfo_;
    std::filesystem::path dir_;
    Log log_;
};

}  // namespace vigil::migrate
