// SPDX-License-Identifier: Apache-2.0
#include "pipeline/buffer/disk_buffer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "pipeline/buffer/stored_record.hpp"
#include "vigil/config.hpp"

namespace vigil::pipeline::buffer {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::seconds(1);  // gauges (oldest age) and retries
constexpr auto kRetryAfterError = std::chrono::seconds(1);
// When even a delete meets a full map (LMDB copies the pages it changes), the map grows by this
// much past max_size rather than never free anything again.
constexpr std::uint64_t kGrowWhenStuck = std::uint64_t{8} << 20;
// Bytes counted per record beyond its value: the 8-byte key and LMDB's node header.
constexpr std::uint64_t kRecordOverhead = 16;
constexpr std::string_view kCursorPrefix = "cursor/";

Timestamp now_us() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

constexpr const char* kDroppedHelp =
    "Records the disk buffer lost, by reason: full (when_full: drop_oldest), corrupt (failed its checksum)";

Labels labels(const std::string& pipeline) { return {{"pipeline", pipeline}}; }
Labels labels(const std::string& pipeline, const char* reason) { return {{"pipeline", pipeline}, {"reason", reason}}; }
}  // namespace

DiskBuffer::DiskBuffer(std::string pipeline, BufferOptions options, std::vector<std::string> sinks, Tuning tuning,
                       Feed feed, Stored stored)
    : pipeline_(std::move(pipeline)), options_(std::move(options)), tuning_(tuning), feed_(std::move(feed)),
      stored_(std::move(stored)), log_("buffer." + pipeline_), write_complaint_(std::chrono::seconds(30)),
      full_complaint_(std::chrono::seconds(60)), drop_complaint_(std::chrono::seconds(30)),
      records_gauge_(gauge("vigil_buffer_records", labels(pipeline_),
                           "Records stored in the disk buffer and not yet acknowledged by every sink")),
      bytes_gauge_(gauge("vigil_buffer_bytes", labels(pipeline_),
                         "Bytes of the pages those records take in the disk buffer's file")),
      max_bytes_gauge_(gauge("vigil_buffer_max_bytes", labels(pipeline_),
                             "The disk buffer's budget (max_size); records fill up to 85% of it")),
      oldest_gauge_(gauge("vigil_buffer_oldest_age_seconds", labels(pipeline_),
                          "Age of the oldest record in the disk buffer; 0 when it is empty")),
      full_gauge_(gauge("vigil_buffer_full", labels(pipeline_),
                        "1 while batches wait for room in the disk buffer (when_full: block)")),
      stored_records_(counter("vigil_buffer_stored_records_total", labels(pipeline_),
                              "Records stored in the disk buffer (fsynced)")),
      commits_(counter("vigil_buffer_commits_total", labels(pipeline_),
                       "Transactions committed to the disk buffer (each fsyncs; many batches share one)")),
      write_errors_(counter("vigil_buffer_write_errors_total", labels(pipeline_),
                            "Failed commits to the disk buffer (disk full, I/O errors), each retried")),
      dropped_full_(counter("vigil_buffer_dropped_records_total", labels(pipeline_, "full"), kDroppedHelp)),
      dropped_corrupt_(counter("vigil_buffer_dropped_records_total", labels(pipeline_, "corrupt"), kDroppedHelp)) {
    for (auto& name : sinks) {
        SinkState s;
        s.name = std::move(name);
        sinks_.push_back(std::move(s));
    }
    max_bytes_gauge_.set(static_cast<double>(options_.max_size));
}

DiskBuffer::~DiskBuffer() { close(); }

double DiskBuffer::ratio() const {
    // Pages per counted byte, measured once there are enough pages for it to mean something.
    if (pages_ < 64 || bytes_ == 0) {
        return std::max(1.25, ratio_floor_);
    }
    return std::max({1.0, ratio_floor_, static_cast<double>(pages_ * page_size_) / static_cast<double>(bytes_)});
}

std::uint64_t DiskBuffer::limit() const {
    // The records' pages may take 85% of the file; the rest is LMDB's own (free list, the
    // pages a transaction copies), so that a commit that only deletes always finds room.
    return static_cast<std::uint64_t>(static_cast<double>(options_.max_size) * 0.85 / ratio());
}

Status DiskBuffer::open() {
    const auto& dir = options_.path;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return Status::error(fmt::format("buffer {}: cannot create the directory: {}", dir.string(), ec.message()));
    }
    auto lock_path = dir / "lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) {
        return Status::error(
            fmt::format("buffer {}: cannot open {}: {}", dir.string(), lock_path.string(), std::strerror(errno)));
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char pid[32] = {};
        auto n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
        std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string();
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
            holder.pop_back();
        }
        release_lock();
        if (err == EWOULDBLOCK) {
            return Status::error(
                fmt::format("buffer {} is in use by another agent{}; give each pipeline a buffer "
                            "of its own",
                            dir.string(), holder.empty() ? "" : " (pid " + holder + ")"));
        }
        return Status::error(
            fmt::format("buffer {}: cannot lock {}: {}", dir.string(), lock_path.string(), std::strerror(err)));
    }
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
        // Only the message of a second agent names the pid; the lock itself holds.
    }
    if (auto st = open_store(); !st.ok()) {
        release_lock();
        return st;
    }
    if (auto st = read_positions(); !st.ok()) {
        env_.close();
        release_lock();
        return st;
    }
    return Status::success();
}

Status DiskBuffer::open_store() {
    const auto& dir = options_.path;
    std::string damaged;
    auto st = env_.open(dir, options_.max_size, &damaged);
    if (st.ok() || damaged.empty()) {
        if (st.ok()) {
            // A new data.mdb is only durable once its directory entry is.
            int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) {
                ::fsync(fd);
                ::close(fd);
            }
        }
        return st;
    }
    // The file is not what LMDB wrote (a disk fault, someone else's bytes): keep it for a
    // post-mortem, say what was lost, and go on with an empty store rather than not at all.
    auto stamp = format_timestamp(now_us());
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    auto aside = dir / ("data.mdb.damaged-" + stamp);
    std::error_code ec;
    std::filesystem::rename(dir / "data.mdb", aside, ec);
    if (ec) {
        return Status::error(fmt::format("buffer {}: data.mdb is damaged ({}) and cannot be moved aside: {}",
                                         dir.string(), damaged, ec.message()));
    }
    counter("vigil_buffer_damaged_total", labels(pipeline_),
            "Stores found unreadable at start, moved aside and replaced by an empty one")
        .inc();
    log_.error(
        "buffer {}: data.mdb is damaged ({}): moved to {} and starting an empty buffer; the records it "
        "held are lost (their number cannot be read from it)",
        dir.string(), damaged, aside.string());
    return env_.open(dir, options_.max_size);
}

Status DiskBuffer::read_positions() {
    Txn t(env_, true);
    if (t.begin_rc() != 0) {
        return Status::error(env_.error("cannot read", t.begin_rc()));
    }
    int rc = 0;
    auto fail = [&](std::string_view what) { return Status::error(env_.error(what, rc)); };
    next_id_ = get_u64(t, env_.meta(), "next_id", rc).value_or(1);
    if (rc != 0) {
        return fail("cannot read its counters");
    }
    auto records = get_u64(t, env_.meta(), "records", rc);
    auto bytes = get_u64(t, env_.meta(), "bytes", rc);
    std::uint64_t first = next_id_;
    {
        Cursor c(t, env_.records());
        if (c.last() && c.id() >= next_id_) {
            next_id_ = c.id() + 1;  // counters behind the records (never written so): trust the records
        }
        if (c.first()) {
            first = c.id();
        }
        if (c.rc() != 0) {
            rc = c.rc();
            return fail("cannot read its records");
        }
        if (!records || !bytes) {
            records_ = 0;
            bytes_ = 0;
            for (bool ok = c.first(); ok; ok = c.next()) {
                ++records_;
                bytes_ += c.value().size() + kRecordOverhead;
            }
        } else {
            records_ = *records;
            bytes_ = *bytes;
        }
    }
    deleted_through_ = first - 1;
    MDB_stat st{};
    if ((rc = mdb_stat(t.get(), env_.records(), &st)) != 0) {
        return fail("cannot read its size");
    }
    pages_ = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    page_size_ = st.ms_psize;
    auto saved = list_u64(t, env_.meta(), kCursorPrefix, rc);
    if (rc != 0) {
        return fail("cannot read the sinks' positions");
    }
    std::vector<std::string> forget;
    for (const auto& [name, acked] : saved) {
        const std::string& saved_name = name;  // clang 14 cannot capture a structured binding
        bool known =
            std::any_of(sinks_.begin(), sinks_.end(), [&](const SinkState& s) { return s.name == saved_name; });
        if (!known) {
            forget.push_back(name);
        }
    }
    for (auto& s : sinks_) {
        auto it = std::find_if(saved.begin(), saved.end(), [&](const auto& p) { return p.first == s.name; });
        // A sink new to this buffer starts with the oldest record it holds.
        s.acked = it != saved.end() ? std::max(it->second, first - 1) : first - 1;
        s.handed = s.acked;
        s.dirty = it == saved.end();
    }
    t.commit();
    refresh_oldest();
    if (records_ > 0) {
        std::string where;
        for (const auto& s : sinks_) {
            where += fmt::format("{}{} from record {}", where.empty() ? "" : ", ", s.name, s.acked + 1);
        }
        log_.info("buffer {}: {} records ({}) from an earlier run, the oldest stored {}; replaying to {}",
                  options_.path.string(), records_, format_size(pages_ * page_size_),
                  oldest_ ? format_timestamp(*oldest_) : std::string("at an unknown time"), where);
    }
    if (!forget.empty()) {
        Txn w(env_, false);
        for (const auto& name : forget) {
            if (w.begin_rc() == 0 && del_key(w, env_.meta(), std::string(kCursorPrefix) + name) == 0) {
                log_.warn(
                    "buffer {}: sink {} is no longer in the pipeline; its position is forgotten, so "
                    "records are kept only for the sinks there are",
                    options_.path.string(), name);
            }
        }
        if (int c = w.commit(); c != 0) {
            rc = c;
            return fail("cannot forget a removed sink's position");
        }
    }
    empty_ = records_ == 0;
    publish();
    return Status::success();
}

void DiskBuffer::release_lock() {
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);  // releases the flock
        lock_fd_ = -1;
    }
}

void DiskBuffer::start() {
    thread_ = std::thread([this] { loop(); });
}

void DiskBuffer::append(std::uint64_t token, Batch batch) {
    {
        std::lock_guard lock(mutex_);
        queued_.push_back(Append{token, std::move(batch), {}, 0});
        empty_ = false;
    }
    wake_.notify_all();
}

void DiskBuffer::done(std::size_t sink, std::uint64_t sequence, bool delivered) {
    {
        std::lock_guard lock(mutex_);
        dones_.push_back(Done{sink, sequence, delivered});
    }
    wake_.notify_all();
}

void DiskBuffer::stop_feeding() {
    {
        std::lock_guard lock(mutex_);
        feeding_ = false;
    }
    wake_.notify_all();
}

bool DiskBuffer::wait_sinks_idle(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return state_.wait_until(lock, deadline, [&] { return idle_; });
}

bool DiskBuffer::wait_empty(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return state_.wait_until(lock, deadline, [&] { return empty_ && queued_.empty(); });
}

void DiskBuffer::drain(Deadline deadline, bool once, const std::function<void()>& give_up_on_down_sinks) {
    if (once) {
        // One round: hand on everything, as a memory pipeline would.
        if (!wait_empty(deadline)) {
            log_.warn(
                "drain deadline passed with {} records still in the buffer; they stay stored and are delivered "
                "after the next start",
                records());
        }
    }
    stop_feeding();
    give_up_on_down_sinks();
    if (!wait_sinks_idle(deadline)) {
        log_.warn("drain deadline passed with sinks still writing; their batches stay in the buffer");
    }
}

std::string DiskBuffer::stopped_summary(std::uint64_t batches, std::uint64_t records) const {
    return fmt::format(
        "stopped: {} batches ({} records) stored in the buffer, {} of its records dropped when it was full; {} "
        "records stay in it",
        batches, records, dropped(), this->records());
}

std::uint64_t DiskBuffer::records() const {
    std::lock_guard lock(mutex_);
    return records_published_;
}

void DiskBuffer::close() {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    env_.close();
    release_lock();
}

void DiskBuffer::encode(Append& a) {
    auto at = now_us();
    a.values.reserve(a.batch.records.size());
    for (const auto& r : a.batch.records) {
        std::string v;
        v.reserve(768);
        encode_stored(r, at, v);
        a.bytes += v.size() + kRecordOverhead;
        a.values.push_back(std::move(v));
    }
}

std::uint64_t DiskBuffer::min_acked() const {
    std::uint64_t m = next_id_ - 1;
    for (const auto& s : sinks_) {
        m = std::min(m, s.acked);
    }
    return m;
}

void DiskBuffer::apply(const Done& d) {
    if (d.sink >= sinks_.size()) {
        return;
    }
    auto& s = sinks_[d.sink];
    auto it = std::find(s.window.begin(), s.window.end(), d.sequence);
    if (it == s.window.end()) {
        return;
    }
    if (d.delivered) {
        // A runner resolves its batches in order, so whatever precedes this one is resolved.
        s.window.erase(s.window.begin(), it + 1);
        if (d.sequence > s.acked) {
            s.acked = d.sequence;
            s.dirty = true;
        }
    } else {
        s.window.erase(it);
    }
    if (s.window.empty()) {
        if (d.delivered && s.handed > s.acked) {
            s.acked = s.handed;  // the gap handed past held no record
            s.dirty = true;
        } else if (!d.delivered) {
            s.handed = s.acked;  // abandoned: handed out again (after a restart)
        }
    }
}

void DiskBuffer::loop() {
    for (;;) {
        std::vector<Done> dones;
        bool closing = false;
        bool feeding = true;
        {
            std::unique_lock lock(mutex_);
            auto deadline = Clock::now() + kTick;
            if (retry_at_ > Clock::now()) {
                deadline = std::min(deadline, retry_at_);
            }
            // Staged batches that may fit now (after a commit that only freed room) are work too;
            // ones waiting for room (full) or for a retry after an error are not.
            wake_.wait_until(lock, deadline, [&] {
                return closing_ || !dones_.empty() || !queued_.empty() || spacers_ > 0 ||
                       (!staged_.empty() && !full_ && Clock::now() >= retry_at_);
            });
            while (!queued_.empty()) {
                staged_.push_back(std::move(queued_.front()));
                queued_.pop_front();
            }
            dones.swap(dones_);
            closing = closing_;
            feeding = feeding_;
        }
        for (auto& a : staged_) {
            if (a.values.size() != a.batch.records.size()) {
                encode(a);
            }
        }
        for (const auto& d : dones) {
            apply(d);
        }
        if (reopen_) {
            env_.close();
            if (auto st = env_.open(options_.path, options_.max_size); st.ok()) {
                reopen_ = false;
                log_.info("buffer {}: reopened after a fatal store error", options_.path.string());
            } else if (write_complaint_.complain()) {
                log_.error("{}; retrying", st.message());
            }
        }
        if (!reopen_ && (closing || Clock::now() >= retry_at_)) {
            // After a full file the commit that frees room follows at once; other failures
            // are retried after a pause.
            if (commit() == CommitOutcome::Failed && spacers_ == 0) {
                retry_at_ = Clock::now() + kRetryAfterError;
            }
        }
        if (feeding && !closing && !reopen_) {
            feed();
        }
        publish();
        if (closing) {
            break;
        }
    }
    if (!staged_.empty()) {
        std::size_t records = 0;
        for (const auto& a : staged_) {
            records += a.batch.records.size();
        }
        log_.error(
            "buffer {}: stopping with {} batches ({} records) not stored; their source was not "
            "acknowledged for them",
            options_.path.string(), staged_.size(), records);
        for (const auto& a : staged_) {
            stored_(a.token, false);
        }
        staged_.clear();
    }
}

DiskBuffer::CommitOutcome DiskBuffer::commit() {
    const bool drop_mode = options_.when_full == BufferOptions::WhenFull::DropOldest;
    const std::uint64_t through = min_acked();
    const bool dirty = std::any_of(sinks_.begin(), sinks_.end(), [](const SinkState& s) { return s.dirty; });
    const bool deletable = through > deleted_through_;
    // Blocked on room with nothing freed since the last try: a commit would change nothing.
    // After the file filled up, a commit without appends goes first: it frees what it can, and
    // it moves LMDB's transaction id on, since pages freed by the last commit may be reused
    // only from the next but one (a failed commit does not count).
    const bool frees = dirty || deletable || !corrupt_.empty();
    const bool spacer = spacers_ > 0;
    // The first commit after a full file also drops (drop_oldest) what the waiting batches
    // need; the second only moves the id on, so those pages are free for the appends after it.
    const bool drop_first = spacer && spacers_ == 2 && drop_mode && !staged_.empty();
    const bool appendable = !staged_.empty() && !spacer && (!full_ || drop_mode || deletable);
    if (!frees && !appendable && !spacer) {
        return CommitOutcome::Nothing;
    }
    Txn txn(env_, false);
    int rc = txn.begin_rc();
    std::uint64_t bytes = bytes_, records = records_, next_id = next_id_;
    std::uint64_t dropped = 0, dropped_incoming = 0;
    struct Placed {
        std::size_t staged;
        std::uint64_t first, last;  // 0, 0: dropped on arrival
    };
    std::vector<Placed> placed;
    bool full = false;
    auto forget = [&](std::string_view value) {
        bytes -= std::min<std::uint64_t>(bytes, value.size() + kRecordOverhead);
        records -= records > 0 ? 1 : 0;
    };
    if (rc == 0 && deletable) {
        Cursor c(txn, env_.records());
        for (bool ok = c.first(); ok && c.id() <= through && rc == 0;) {
            forget(c.value());
            rc = c.del();
            ok = rc == 0 && c.next();
        }
        rc = rc != 0 ? rc : c.rc();
    }
    for (auto id : corrupt_) {
        if (rc != 0) {
            break;
        }
        IdKey k(id);
        MDB_val key = k.val();
        MDB_val value{};
        if ((rc = mdb_get(txn.get(), env_.records(), &key, &value)) == 0) {
            forget({static_cast<const char*>(value.mv_data), value.mv_size});
            rc = mdb_del(txn.get(), env_.records(), &key, nullptr);
        } else if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }
    // Deletes the oldest records no sink holds until `needed` counted bytes are free.
    auto drop = [&](std::uint64_t needed) {
        std::uint64_t count = 0;
        auto freed = drop_oldest(txn, needed, count, rc);
        bytes -= std::min(bytes, freed);
        records -= std::min(records, count);
        dropped += count;
    };
    if (rc == 0 && drop_first) {
        std::uint64_t needed = 0;
        for (const auto& a : staged_) {
            needed += a.bytes;
        }
        drop(needed);
    }
    for (std::size_t i = 0; appendable && i < staged_.size() && rc == 0; ++i) {
        auto& a = staged_[i];
        auto fits = [&] { return bytes + a.bytes <= limit() || records == 0; };
        if (!fits() && drop_mode) {
            drop(bytes + a.bytes - limit());
            if (rc == 0 && !fits()) {
                // Every stored record is held by a sink right now: this batch is the oldest
                // that can go.
                dropped_incoming += a.batch.records.size();
                placed.push_back({i, 0, 0});
                continue;
            }
        }
        if (rc != 0) {
            break;
        }
        if (!fits()) {
            full = true;
            break;
        }
        std::uint64_t first = next_id;
        for (auto& v : a.values) {
            IdKey k(next_id);
            MDB_val key = k.val();
            MDB_val value{v.size(), v.data()};
            if ((rc = mdb_put(txn.get(), env_.records(), &key, &value, MDB_APPEND)) != 0) {
                break;
            }
            ++next_id;
        }
        if (rc != 0) {
            break;
        }
        bytes += a.bytes;
        records += a.values.size();
        placed.push_back({i, first, next_id - 1});
    }
    if (rc == 0) {
        rc = put_u64(txn, env_.meta(), "next_id", next_id);
    }
    if (rc == 0) {
        rc = put_u64(txn, env_.meta(), "records", records);
    }
    if (rc == 0) {
        rc = put_u64(txn, env_.meta(), "bytes", bytes);
    }
    for (const auto& s : sinks_) {
        if (rc == 0 && s.dirty) {
            rc = put_u64(txn, env_.meta(), std::string(kCursorPrefix) + s.name, s.acked);
        }
    }
    std::uint64_t pages = pages_;
    unsigned page_size = page_size_;
    if (rc == 0) {
        MDB_stat st{};
        if ((rc = mdb_stat(txn.get(), env_.records(), &st)) == 0) {
            pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
            page_size = st.ms_psize;
        }
    }
    if (rc == 0) {
        rc = txn.commit();
    }
    if (rc != 0) {
        write_errors_.inc();
        std::size_t waiting = 0;
        for (const auto& a : staged_) {
            waiting += a.batch.records.size();
        }
        if (rc == MDB_MAP_FULL) {
            if (!appendable) {
                if (auto st = env_.grow(txn, kGrowWhenStuck); !st.ok()) {
                    log_.error("{} (no room left even to delete records)", st.message());
                } else {
                    log_.warn("buffer {}: no room left even to delete records; its file may grow to {} to free some",
                              options_.path.string(), format_size(env_.map_size()));
                }
                return CommitOutcome::Failed;
            }
            // The file reached max_size before the estimate said so (pages freed in this very
            // commit cannot hold its new records): count records as taking more room from here
            // on, and commit without appends first.
            ratio_floor_ = std::min(ratio() * 1.1, 4.0);
            spacers_ = 2;
            if (full_complaint_.complain()) {
                if (records_ == 0) {
                    log_.error("buffer {}: a batch of {} records does not fit in max_size {}; raise max_size",
                               options_.path.string(), staged_.empty() ? 0 : staged_.front().batch.records.size(),
                               format_size(options_.max_size));
                } else {
                    log_.warn(
                        "buffer {}: its file reached max_size {}; new records wait until the sinks free "
                        "room{}",
                        options_.path.string(), format_size(options_.max_size),
                        drop_mode ? " or the oldest are dropped" : "");
                }
            }
            full_ = !drop_mode && records_ > 0;
            return CommitOutcome::Failed;
        }
        if (rc == MDB_PANIC || rc == EINVAL) {
            reopen_ = true;
        }
        if (write_complaint_.complain()) {
            log_.error(
                "{}; {} records wait to be stored and their source is not acknowledged (it waits); "
                "retrying every {}s{}",
                env_.error("cannot write", rc) + disk_full_hint(rc), waiting,
                std::chrono::duration_cast<std::chrono::seconds>(kRetryAfterError).count(),
                write_complaint_.suppressed() > 0
                    ? fmt::format(" ({} failures since the last report)", write_complaint_.suppressed())
                    : "");
        }
        return CommitOutcome::Failed;
    }

    if (write_complaint_.release()) {
        log_.info("buffer {}: writing again", options_.path.string());
    }
    if (spacer) {
        --spacers_;
    }
    bool was_empty = records_ == 0;
    bool deleted = records < records_ + (next_id - next_id_);
    pages_ = pages;
    page_size_ = page_size;
    bytes_ = bytes;
    records_ = records;
    next_id_ = next_id;
    if (deletable) {
        deleted_through_ = through;
    }
    if (records_ == 0) {
        ratio_floor_ = 0;
    }
    corrupt_.clear();
    for (auto& s : sinks_) {
        s.dirty = false;
    }
    commits_.inc();
    if (full != full_) {
        full_ = full;
        if (full && full_complaint_.complain()) {
            log_.warn(
                "buffer {} is full ({} records in {} of max_size {}): the source waits until the sinks "
                "catch up (when_full: block)",
                options_.path.string(), records_, format_size(pages_ * page_size_), format_size(options_.max_size));
        } else if (!full) {
            full_complaint_.release();
        }
    }
    if (dropped + dropped_incoming > 0) {
        dropped_full_.inc(dropped + dropped_incoming);
        dropped_total_ += dropped + dropped_incoming;
        dropped_since_log_ += dropped + dropped_incoming;
        cache_.clear();  // a cached batch may hold a dropped record: read from disk from here
        if (drop_complaint_.complain()) {
            log_.warn(
                "buffer {} is full (max_size {}): dropped the {} oldest records no sink was writing "
                "(when_full: drop_oldest); {} dropped so far",
                options_.path.string(), format_size(options_.max_size), dropped_since_log_, dropped_full_.value());
            dropped_since_log_ = 0;
        }
    }
    std::size_t taken = 0;
    for (const auto& p : placed) {
        auto& a = staged_[p.staged];
        if (p.last != 0) {
            stored_records_.inc(a.values.size());
            a.batch.sequence = p.last;
            cache_.push_back(Cached{p.first, p.last, std::make_shared<const Batch>(std::move(a.batch))});
        }
        stored_(a.token, true);
        taken = p.staged + 1;
    }
    staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(taken));
    if (was_empty || deleted) {
        refresh_oldest();
    }
    return CommitOutcome::Committed;
}

std::string DiskBuffer::disk_full_hint(int rc) const {
    // LMDB turns a short write into EIO: say when the cause is a full file system.
    if (rc != EIO && rc != ENOSPC && rc != EDQUOT) {
        return {};
    }
    struct statvfs fs {};
    if (::statvfs(options_.path.c_str(), &fs) != 0) {
        return {};
    }
    auto free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free >= (std::uint64_t{4} << 20)) {
        return {};
    }
    return fmt::format(" (its file system has {} free: the disk is full)", format_size(free));
}

std::uint64_t DiskBuffer::drop_oldest(const Txn& txn, std::uint64_t needed, std::uint64_t& count, int& rc) {
    std::uint64_t freed = 0;
    Cursor c(txn, env_.records());
    bool ok = c.first();
    // Only records stored by earlier commits: the batches this commit places are the newest,
    // and must not make room for each other.
    while (ok && freed < needed && c.id() < next_id_) {
        auto id = c.id();
        // Never a record a sink holds: it may be written right now, and a record counted as
        // dropped must never arrive anywhere.
        std::uint64_t held = 0;
        for (const auto& s : sinks_) {
            if (!s.window.empty() && id > s.acked && id <= s.handed) {
                held = std::max(held, s.handed);
            }
        }
        if (held > 0) {
            ok = c.seek(held + 1);
            continue;
        }
        freed += c.value().size() + kRecordOverhead;
        ++count;
        if ((rc = c.del()) != 0) {
            return freed;
        }
        ok = c.next();
    }
    rc = c.rc();
    return freed;
}

void DiskBuffer::feed() {
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
        auto& s = sinks_[i];
        while (s.window.size() < tuning_.window && s.handed + 1 < next_id_) {
            if (!feed_one(s, i)) {
                break;
            }
        }
    }
    // Keep a batch in memory while some sink may still want it, and at most two windows' worth.
    auto all_past = [&](std::uint64_t last) {
        return std::all_of(sinks_.begin(), sinks_.end(), [&](const SinkState& s) { return s.handed >= last; });
    };
    while (!cache_.empty() && (cache_.size() > 2 * tuning_.window || all_past(cache_.front().last))) {
        cache_.pop_front();
    }
}

bool DiskBuffer::feed_one(SinkState& s, std::size_t index) {
    std::uint64_t next = s.handed + 1;
    std::uint64_t stop = next_id_;
    for (const auto& c : cache_) {
        if (c.first == next) {
            s.window.push_back(c.last);
            s.handed = c.last;
            feed_(index, c.batch);
            return true;
        }
        if (c.first > next) {
            stop = c.first;
            break;
        }
    }
    // Behind the memory: read what follows from disk, up to the next batch still in memory.
    Txn t(env_, true);
    if (t.begin_rc() != 0) {
        if (write_complaint_.complain()) {
            log_.error("{}", env_.error("cannot read", t.begin_rc()));
        }
        return false;
    }
    Batch b;
    std::uint64_t last = 0;
    Cursor c(t, env_.records());
    for (bool ok = c.seek(next); ok && c.id() < stop && b.records.size() < tuning_.read_records; ok = c.next()) {
        auto id = c.id();
        last = id;
        if (corrupt_.count(id) > 0) {
            continue;
        }
        auto r = decode_stored(c.value());
        if (r.record) {
            b.records.push_back(std::move(*r.record));
            continue;
        }
        corrupt_.insert(id);
        dropped_corrupt_.inc();
        log_.error("buffer {}: record {} is damaged ({}); skipped, 1 record lost ({} so far)", options_.path.string(),
                   id, r.error, dropped_corrupt_.value());
    }
    if (c.rc() != 0) {
        if (write_complaint_.complain()) {
            log_.error("{}", env_.error("cannot read records", c.rc()));
        }
        return false;
    }
    if (b.records.empty()) {
        s.handed = last != 0 ? last : stop - 1;  // a gap (dropped or damaged records): nothing to hand
        if (s.window.empty()) {
            s.acked = s.handed;
            s.dirty = true;
        }
        return true;
    }
    b.sequence = last;
    s.window.push_back(last);
    s.handed = last;
    feed_(index, std::make_shared<const Batch>(std::move(b)));
    return true;
}

void DiskBuffer::refresh_oldest() {
    oldest_.reset();
    if (records_ == 0) {
        return;
    }
    Txn t(env_, true);
    if (t.begin_rc() != 0) {
        return;
    }
    Cursor c(t, env_.records());
    if (c.first()) {
        oldest_ = stored_at(c.value());
    }
}

void DiskBuffer::publish() {
    records_gauge_.set(static_cast<double>(records_));
    bytes_gauge_.set(static_cast<double>(pages_ * page_size_));
    full_gauge_.set(full_ ? 1 : 0);
    double age = 0;
    if (records_ > 0 && oldest_) {
        age = std::max(0.0, std::chrono::duration<double>(now_us() - *oldest_).count());
    }
    oldest_gauge_.set(age);
    bool idle = std::all_of(sinks_.begin(), sinks_.end(), [](const SinkState& s) { return s.window.empty(); });
    {
        std::lock_guard lock(mutex_);
        idle_ = idle;
        empty_ = records_ == 0 && staged_.empty() && queued_.empty();
        records_published_ = records_;
    }
    state_.notify_all();
}

}  // namespace vigil::pipeline::buffer
