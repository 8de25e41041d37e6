// SPDX-License-Identifier: Apache-2.0
// One connection writing chunks of a batch, each in one transaction: COPY into a temporary
// staging table, INSERT ... SELECT ... ON CONFLICT (check_id) DO NOTHING into the table, with
// `state:` the site states the new rows move (pg_writer_state.cpp), the refused rows into the
// dead-letter table, COMMIT.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pg_handles.hpp"
#include "pg_sink_config.hpp"
#include "site_vote.hpp"
#include "vigil/batch.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_sink {

struct ChunkResult {
    bool retry = false;
    std::string error;                // retry: one line naming the server and what failed
    std::vector<Rejection> rejected;  // stored in the dead-letter table, in this transaction
    std::size_t events = 0;           // site_events rows committed (with `state:`)
};

/// The site states a sink's writers committed last, shared by them (a site's rows of one write
/// go to one writer, but the next write may hash them to another). Only what COMMIT made true
/// is put here; a state another process moved since is caught by the writer's compare-and-set.
class StateCache {
  public:
    /// Takes the site out (a writer that fails puts nothing back: the next reads the tables),
    /// so the steady state copies nothing.
    std::optional<Site> take(const std::string& site);
    /// Takes the sites (the vector is left empty).
    void put(std::vector<Site>& sites);

  private:
    Mutex mutex_;
    std::unordered_map<std::string, Site> sites_ VIGIL_GUARDED_BY(mutex_);
};

/// PQexec for the writer's transaction control (BEGIN, SAVEPOINT...), replaceable by tests: a
/// failure of these cannot be provoked from outside.
struct WriterCalls {
    PGresult* (*exec)(PGconn* conn, const char* statement) = PQexec;
};
WriterCalls& writer_calls();

class Writer {
  public:
    /// `staged` counts the rows sent by COPY (the sink instance's vigil_pg_sink_staged_rows_total).
    Writer(const Config& config, Logger log, Counter& staged, StateCache* cache = nullptr);
    ~Writer();

    /// Connects, checks the table, and creates the staging table. `missing` gets the fields
    /// whose column the table lacks (they are not written).
    Status connect(std::vector<std::string>* missing = nullptr);
    bool connected() const { return conn_ != nullptr; }
    /// Whether the table is partitioned by day (known once connected): the upkeep makes its days.
    bool partitioned() const { return partitioned_; }

    /// Writes the records of `batch` at `indices` (ascending) in one transaction. Returns only
    /// after COMMIT (or a failure, after which nothing of the chunk is stored).
    ChunkResult write(const Batch& batch, const std::vector<std::size_t>& indices);

    /// The table's upkeep, outside any transaction: with `rollups:` the daily rollups of the
    /// days marked summed again; with `hourly` also, for a partitioned table, its day partitions
    /// (made ahead; with `retention:` old ones dropped) and with `rollups:` old rollups deleted. `done` gets a
    /// line per thing done.
    Status maintain(std::vector<std::string>& done, bool hourly);

    /// Cancels the statement in progress (from another thread): write() returns retry.
    void interrupt();

    /// The temporary table each chunk is COPYed into first (ON COMMIT DELETE ROWS).
    static constexpr const char* kStage = "vigil_stage";

  private:
    struct Copied {
        bool ok = false;
        std::string sqlstate, message;
        long line = 0;  // COPY's line of the failing row, 0 if none
    };
    /// COPYs rows[from, to) into the staging table.
    Copied copy_rows(const Batch& batch, const std::vector<std::size_t>& rows, std::size_t from, std::size_t to);
    /// Rows per COPY once a chunk has shown a bad row.
    static constexpr std::size_t kSegmentAfterRefusal = 128;
    using Refused = std::map<std::size_t, std::pair<std::string, std::string>>;  // index -> sqlstate, reason
    /// Stages `rows`, moving each that COPY refuses into `refused` (and out of `rows`). Each
    /// refusal costs one savepoint rollback and a COPY of the rows before it, so a chunk is
    /// staged in O(rows), not one full COPY per bad row. A failure that is not the row's own
    /// comes back as the chunk's result.
    std::optional<ChunkResult> stage(const Batch& batch, std::vector<std::size_t>& rows, Refused& refused);
    /// With `state:`: applies the rows this transaction inserted (`fresh`, indices into
    /// `batch`) to their sites' states and records the changes in site_events, in the open
    /// transaction. A failure comes back as the chunk's result.
    std::optional<ChunkResult> update_state(const Batch& batch, std::vector<std::size_t> fresh);
    /// One attempt of update_state: `lock_rows` reads the states FOR UPDATE; `conflict` says a
    /// state changed between its read and its write (nothing to keep: roll back to the savepoint).
    std::optional<ChunkResult> apply_state(const Batch& batch, std::vector<std::size_t> fresh, bool lock_rows,
                                           bool& conflict);
    /// Reads the sites named in `names` with their locations into `sites` (with `lock_rows`, FOR UPDATE).
    std::optional<ChunkResult> read_sites(const std::vector<std::string>& names, bool lock_rows,
                                          std::map<std::string, Site>& sites);
    /// Writes back the sites' rows with their locations' states (compare-and-set on revision:
    /// `conflict` when one moved).
    std::optional<ChunkResult> write_sites(const std::vector<Site*>& sites, bool& conflict);
    std::optional<ChunkResult> write_events(const std::vector<StateEvent>& events);
    /// With `rollups:`: adds the rows this transaction inserted to their sites' hourly sums and
    /// marks their days for the daily ones, in the open transaction.
    std::optional<ChunkResult> update_rollups(const Batch& batch, const std::vector<std::size_t>& fresh);
    /// The batch indices of the check_ids an INSERT ... RETURNING check_id returned.
    void collect_inserted(const PGresult* r, const std::unordered_map<std::string_view, std::size_t>& by_id,
                          std::vector<std::size_t>& fresh) const;
    /// Runs a statement without parameters or rows (BEGIN, SAVEPOINT...): its failure as the
    /// chunk's result.
    std::optional<ChunkResult> run(const char* statement);
    ChunkResult fail(const std::string& what, PGresult* r);
    ChunkResult fail(const std::string& what, std::string message, const std::string& state);
    void disconnect();

    const Config& config_;
    Logger log_;
    Counter& staged_;
    std::size_t events_ = 0;  // site_events rows the open transaction wrote
    StateCache* cache_ = nullptr;
    std::vector<Site> pending_;  // the sites the open transaction wrote: cached after COMMIT
    pg::Conn conn_;
    Mutex cancel_mutex_;
    pg::Cancel cancel_ VIGIL_GUARDED_BY(cancel_mutex_);
    std::atomic<bool> interrupted_{false};
    std::vector<std::pair<Field, std::string>> columns_;  // the ones the table has
    std::string column_list_;                             // "name","url",...
    std::string insert_sql_, insert_one_sql_;             // every staged row; the row whose ord is $1
    std::string hourly_sql_, dirty_sql_;                  // with `rollups:`
    bool partitioned_ = false;
    std::string host_;  // for messages
};

}  // namespace vigil::plugins::pg_sink
