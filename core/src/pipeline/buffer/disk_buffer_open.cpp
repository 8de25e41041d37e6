// SPDX-License-Identifier: Apache-2.0
// The disk buffer at start: its directory locked, its store opened (a damaged one moved aside),
// the sinks' positions read back.
#include "pipeline/buffer/disk_buffer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "pipeline/buffer/disk_buffer_shared.hpp"
#include "pipeline/buffer/stored_record.hpp"
#include "vigil/config.hpp"

namespace vigil::pipeline::buffer {

using namespace detail;

Status DiskBuffer::open() {
    const auto& dir = options_.path;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return Status::error(fmt::format("buffer {}: cannot create the directory: {}", dir.string(), ec.message()));
    }
    if (auto st = lock_dir(); !st.ok()) {
        return st;
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

// One agent per buffer: an flock on <dir>/lock, which holds the owner's pid for the message a
// second agent gets. (LMDB's own lock file is off: MDB_NOLOCK.)
Status DiskBuffer::lock_dir() {
    const auto& dir = options_.path;
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
                bytes_ += c.value().size() + SizeBudget::kRecordOverhead;
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
    budget_.measured(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages, st.ms_psize, bytes_);
    auto saved = list_u64(t, env_.meta(), kCursorPrefix, rc);
    if (rc != 0) {
        return fail("cannot read the sinks' positions");
    }
    auto forget = sinks_.restore(saved, first);
    t.commit();
    refresh_oldest();
    if (records_ > 0) {
        std::string where;
        for (const auto& s : sinks_) {
            where += fmt::format("{}{} from record {}", where.empty() ? "" : ", ", s.name, s.acked + 1);
        }
        log_.info("buffer {}: {} records ({}) from an earlier run, the oldest stored {}; replaying to {}",
                  options_.path.string(), records_, format_size(budget_.file_bytes()),
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
    publish();  // sets empty_ and the gauges, under the lock
    return Status::success();
}

void DiskBuffer::release_lock() {
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);  // releases the flock
        lock_fd_ = -1;
    }
}

}  // namespace vigil::pipeline::buffer
