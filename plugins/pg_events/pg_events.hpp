// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pg_events_config.hpp"
#include "pg_handles.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_events {

/// Reads the site_events that pg_sink writes, in id order, after a durable cursor, and emits
/// each as a record carrying its SiteEvent: the delivery half of the transactional outbox.
///
/// The cursor (a row of site_events_cursors) moves only when the sinks acknowledged every event
/// up to it, so an event is delivered at least once whatever crashes: one emitted but not
/// acknowledged is read again after a restart, under the same id. pg_sink takes event ids in
/// commit order, so reading "after id N" never skips one that commits late. LISTEN
/// vigil_site_events wakes the reader at each COMMIT; poll_interval covers a missed
/// notification. One reader per cursor at a time: the others wait on a session advisory lock
/// (a standby takes over within poll_interval when the first one's session ends).
class PgEvents final : public Source {
  public:
    PgEvents(Config config, std::string instance, Logger log);
    ~PgEvents() override;

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override;
    bool supports_once() const override { return true; }
    Status healthcheck() override;

  private:
    /// Connects and checks that the tables exist (all healthcheck() does).
    Status open();
    /// Migrates if asked (once per process), open(), takes the cursor's lock, LISTENs and loads
    /// the cursor. An error names what failed; `standby` says another reader holds it.
    Status connect(bool& standby);
    void disconnect();
    /// The events after the read position, at most batch_size; nullopt on a failure (logged).
    std::optional<std::vector<Record>> read_events();
    /// The current state of every site that is not up, as id-0 events.
    std::optional<std::vector<Record>> read_states();
    /// The event's `locations` from the jsonb in `column` (a bad one is logged and read as none).
    void read_locations(const PGresult* r, int row, int column, SiteEvent& e, const std::string& origin);
    /// Hands `records` on; the cursor may move to `last_id` once they are acknowledged.
    bool emit(Emitter& out, std::vector<Record> records, std::int64_t last_id);
    /// Stores the acknowledged position if it moved; false on a failure (logged).
    bool save_cursor();
    /// Until a notification arrives, `d` passes or a stop is requested.
    void wait(const StopToken& stop, Duration d);
    /// Waits up to `d` for every emitted batch to be acknowledged.
    void await_acks(Duration d);

    Config config_;
    std::string instance_;
    Logger log_;
    pg::Conn conn_;
    std::string host_;         // for messages
    bool migrated_ = false;    // `migrate` done (or not asked for) in this process
    std::int64_t read_ = -1;   // the last event id emitted; -1 before the cursor is loaded
    std::int64_t saved_ = -1;  // the position stored in the cursor row

    Mutex mutex_;
    std::condition_variable acked_cv_;
    std::int64_t acked_ VIGIL_GUARDED_BY(mutex_) = -1;      // every event up to here was acknowledged
    std::size_t outstanding_ VIGIL_GUARDED_BY(mutex_) = 0;  // batches emitted and not yet acknowledged

    Counter& events_;
    Counter& refreshed_;
    Counter& standby_polls_;
    Gauge& cursor_;
};

}  // namespace vigil::plugins::pg_events
