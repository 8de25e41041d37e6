// SPDX-License-Identifier: Apache-2.0
// The disk buffer's group commit: the appends, acknowledgements and deletions that arrived since
// the last one, in one LMDB transaction (one fsync); and what a failed commit leads to.
#include "pipeline/buffer/disk_buffer.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>

#include <fmt/core.h>

#include "pipeline/buffer/disk_buffer_shared.hpp"
#include "vigil/config.hpp"

namespace vigil::pipeline::buffer {

using namespace detail;

DiskBuffer::CommitOutcome DiskBuffer::commit() {
    const bool drop_mode = options_.when_full == BufferOptions::WhenFull::DropOldest;
    const std::uint64_t through = sinks_.min_acked(next_id_ - 1);
    const bool dirty = sinks_.dirty();
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
        bytes -= std::min<std::uint64_t>(bytes, value.size() + SizeBudget::kRecordOverhead);
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
        auto fits = [&] { return budget_.fits(bytes, a.bytes, records); };
        if (!fits() && drop_mode) {
            drop(bytes + a.bytes - budget_.limit());
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
    std::uint64_t pages = budget_.pages();
    unsigned page_size = budget_.page_size();
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
        return failed_commit(rc, txn, appendable, drop_mode);
    }

    if (write_complaint_.release()) {
        log_.info("buffer {}: writing again", options_.path.string());
    }
    if (spacer) {
        --spacers_;
    }
    bool was_empty = records_ == 0;
    bool deleted = records < records_ + (next_id - next_id_);
    budget_.measured(pages, page_size, bytes);
    bytes_ = bytes;
    records_ = records;
    next_id_ = next_id;
    if (deletable) {
        deleted_through_ = through;
    }
    corrupt_.clear();
    sinks_.clean();
    commits_.inc();
    if (full != full_) {
        full_ = full;
        if (full && full_complaint_.complain()) {
            log_.warn(
                "buffer {} is full ({} records in {} of max_size {}): the source waits until the sinks "
                "catch up (when_full: block)",
                options_.path.string(), records_, format_size(budget_.file_bytes()), format_size(options_.max_size));
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

DiskBuffer::CommitOutcome DiskBuffer::failed_commit(int rc, Txn& txn, bool appendable, bool drop_mode) {
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
        budget_.filled_early();
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
        // Never a record a sink holds: it may be written right now, and a record counted as
        // dropped must never arrive anywhere.
        if (auto held = sinks_.held_through(c.id()); held > 0) {
            ok = c.seek(held + 1);
            continue;
        }
        freed += c.value().size() + SizeBudget::kRecordOverhead;
        ++count;
        if ((rc = c.del()) != 0) {
            return freed;
        }
        ok = c.next();
    }
    rc = c.rc();
    return freed;
}

}  // namespace vigil::pipeline::buffer
