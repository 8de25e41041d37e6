// SPDX-License-Identifier: Apache-2.0
// The durable buffer between a pipeline's source and its sinks (`buffer: {type: disk}`).
//
// A batch the source emits is stored in LMDB, fsynced, and only then acknowledged to the
// source, so a source never waits for a sink that is down (http_check keeps checking through a
// Kafka outage) and a kill -9 loses nothing acknowledged. Each sink reads the store in order,
// at its own pace, through a position of its own that is saved in the same transactions; a
// record is deleted once every sink has acknowledged (or dead-lettered) it. On start the agent
// hands each sink what it had not acknowledged, so a record may reach a sink twice after a
// crash (its check_id keeps the row single) and never zero times.
//
// One thread owns the store: it group-commits whatever appends and acknowledgements arrived
// since its last commit (one fsync for many batches under load), deletes what every sink is
// done with, and feeds the sinks, from memory while they keep up and from disk when they lag.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/buffer/buffer.hpp"
#include "pipeline/buffer/buffer_options.hpp"
#include "pipeline/buffer/lmdb_env.hpp"
#include "pipeline/buffer/sink_cursors.hpp"
#include "pipeline/buffer/size_budget.hpp"
#include "vigil/batch.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline::buffer {

class DiskBuffer final : public Buffer {
  public:
    /// Hands a batch to sink `sink` (its runner queues it; must not block). The batch's sequence
    /// is the id of its last record and comes back through done().
    using Feed = std::function<void(std::size_t sink, std::shared_ptr<const Batch>)>;
    /// The batch appended with `token` is stored durably (true), or could not be stored before
    /// close() (false). Called once per append, in append order, from the buffer's thread.
    using Stored = std::function<void(std::uint64_t token, bool stored)>;

    struct Tuning {
        std::size_t window = 8;           // batches a sink holds at once
        std::size_t read_records = 1000;  // records per batch read back from disk
    };

    DiskBuffer(std::string pipeline, BufferOptions options, std::vector<std::string> sinks, Tuning tuning, Feed feed,
               Stored stored);
    ~DiskBuffer() override;
    DiskBuffer(const DiskBuffer&) = delete;
    DiskBuffer& operator=(const DiskBuffer&) = delete;

    /// Creates or reopens the store and reads every sink's position. One line naming the path on
    /// failure (cannot create, in use by another agent...). A damaged store is moved aside,
    /// logged with what was lost, and replaced by an empty one: that is not a failure.
    Status open() override;
    /// Starts the buffer's thread: replay of what the sinks had not acknowledged begins.
    void start() override;

    /// A batch is resolved for its source once stored.
    std::size_t resolutions_per_batch() const override { return 1; }
    /// append(batch.sequence, batch): the pipeline's token is the batch's sequence.
    void append(Batch batch) override {
        auto token = batch.sequence;  // read before the move: argument order is unspecified
        append(token, std::move(batch));
    }
    Drained drain(Deadline deadline, bool once, const std::function<void()>& give_up_on_down_sinks) override;
    std::string stopped_summary(std::uint64_t batches, std::uint64_t records) const override;

    /// Takes a batch; Stored(token, ...) follows once it is durable. Cheap: never touches disk.
    void append(std::uint64_t token, Batch batch);
    /// A sink resolved the batch whose sequence is `sequence`: delivered (its position moves
    /// past it) or abandoned at shutdown (it is handed out again after a restart).
    void done(std::size_t sink, std::uint64_t sequence, bool delivered) override;

    /// Drain: hand the sinks nothing more; what they hold still resolves through done().
    void stop_feeding();
    /// Waits until no sink holds a batch. False at the deadline.
    bool wait_sinks_idle(std::chrono::steady_clock::time_point deadline);
    /// Waits until every sink has acknowledged every stored record and nothing waits to be
    /// stored. False at the deadline.
    bool wait_empty(std::chrono::steady_clock::time_point deadline);
    /// Saves the positions, stops the thread, closes the store. Appends not yet stored get
    /// Stored(token, false).
    void close() override;

    /// Records stored and not yet acknowledged by every sink (as of the last commit).
    std::uint64_t records() const override;
    /// Records dropped because the buffer was full (when_full: drop_oldest) since open().
    std::uint64_t dropped() const override { return dropped_total_.load(); }

  private:
    struct Append {
        std::uint64_t token;
        Batch batch;
        std::vector<std::string> values;  // encoded by the buffer's thread
        std::uint64_t bytes = 0;
    };
    struct Done {
        std::size_t sink;
        std::uint64_t sequence;
        bool delivered;
    };
    struct Cached {
        std::uint64_t first;
        std::uint64_t last;
        std::shared_ptr<const Batch> batch;
    };
    enum class CommitOutcome { Nothing, Committed, Failed };

    void loop();
    void encode(Append& a);
    CommitOutcome commit();
    /// After a failed commit: counts it, and sets up what comes next (grow a stuck map, commit
    /// without appends after MAP_FULL, reopen after a fatal error), saying so in the log.
    CommitOutcome failed_commit(int rc, Txn& txn, bool appendable, bool drop_mode);
    /// Inside a write transaction: deletes the oldest records no sink holds until `needed`
    /// bytes are freed. Returns the bytes freed; `count` gets the records deleted.
    std::uint64_t drop_oldest(const Txn& txn, std::uint64_t needed, std::uint64_t& count, int& rc);
    std::string disk_full_hint(int rc) const;
    void feed();
    bool feed_one(std::size_t sink);
    void refresh_oldest();
    void publish();
    Status lock_dir();
    Status open_store();
    Status read_positions();
    void release_lock();

    std::string pipeline_;
    BufferOptions options_;
    Tuning tuning_;
    Feed feed_;
    Stored stored_;
    Logger log_;

    // Shared with callers, under mutex_.
    mutable Mutex mutex_;
    std::condition_variable wake_;   // the buffer's thread: work arrived
    std::condition_variable state_;  // waiters on idle/empty
    std::deque<Append> queued_ VIGIL_GUARDED_BY(mutex_);
    std::vector<Done> dones_ VIGIL_GUARDED_BY(mutex_);
    bool feeding_ VIGIL_GUARDED_BY(mutex_) = true;
    bool closing_ VIGIL_GUARDED_BY(mutex_) = false;
    bool idle_ VIGIL_GUARDED_BY(mutex_) = true;
    bool empty_ VIGIL_GUARDED_BY(mutex_) = true;
    std::uint64_t records_published_ VIGIL_GUARDED_BY(mutex_) = 0;

    // Owned by the buffer's thread (and by open() before it starts).
    LmdbEnv env_;
    int lock_fd_ = -1;
    SinkCursors sinks_;
    std::deque<Append> staged_;  // taken from queued_, encoded, waiting for room or a commit
    std::deque<Cached> cache_;
    std::set<std::uint64_t> corrupt_;  // found while reading; deleted at the next commit
    std::uint64_t next_id_ = 1;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;            // counted: value sizes plus SizeBudget::kRecordOverhead each
    SizeBudget budget_;                  // what bytes_ may grow to, from the pages LMDB counts
    int spacers_ = 0;                    // after MAP_FULL: commits without appends still to make
    std::uint64_t deleted_through_ = 0;  // every id <= this has been deleted
    std::optional<Timestamp> oldest_;
    bool full_ = false;
    bool reopen_ = false;
    std::chrono::steady_clock::time_point retry_at_{};
    Complaint write_complaint_;
    Complaint full_complaint_;
    Complaint drop_complaint_;
    std::uint64_t dropped_since_log_ = 0;
    std::atomic<std::uint64_t> dropped_total_{0};
    std::thread thread_;

    Gauge& records_gauge_;
    Gauge& bytes_gauge_;
    Gauge& max_bytes_gauge_;
    Gauge& oldest_gauge_;
    Gauge& full_gauge_;
    Counter& stored_records_;
    Counter& commits_;
    Counter& write_errors_;
    Counter& dropped_full_;
    Counter& dropped_corrupt_;
};

}  // namespace vigil::pipeline::buffer
