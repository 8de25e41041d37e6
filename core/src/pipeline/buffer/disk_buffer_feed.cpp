// SPDX-License-Identifier: Apache-2.0
// The disk buffer feeding its sinks: from memory while they keep up, from the store when they
// lag; and the gauges it publishes.
#include "pipeline/buffer/disk_buffer.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "pipeline/buffer/disk_buffer_shared.hpp"
#include "pipeline/buffer/stored_record.hpp"
#include "vigil/config.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline::buffer {

using namespace detail;

void DiskBuffer::feed() {
    for (std::size_t i = 0; i < sinks_.size(); ++i) {
        while (sinks_[i].window.size() < tuning_.window && sinks_[i].handed + 1 < next_id_) {
            if (!feed_one(i)) {
                break;
            }
        }
    }
    // Keep a batch in memory while some sink may still want it, and at most two windows' worth.
    while (!cache_.empty() && (cache_.size() > 2 * tuning_.window || sinks_.all_past(cache_.front().last))) {
        cache_.pop_front();
    }
}

bool DiskBuffer::feed_one(std::size_t sink) {
    std::uint64_t next = sinks_[sink].handed + 1;
    std::uint64_t stop = next_id_;
    for (const auto& c : cache_) {
        if (c.first == next) {
            sinks_.hand(sink, c.last);
            feed_(sink, c.batch);
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
        sinks_.skip(sink, last != 0 ? last : stop - 1);  // a gap (dropped or damaged records)
        return true;
    }
    b.sequence = last;
    sinks_.hand(sink, last);
    feed_(sink, std::make_shared<const Batch>(std::move(b)));
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
    bytes_gauge_.set(static_cast<double>(budget_.file_bytes()));
    full_gauge_.set(full_ ? 1 : 0);
    double age = 0;
    if (records_ > 0 && oldest_) {
        age = std::max(0.0, std::chrono::duration<double>(now_us() - *oldest_).count());
    }
    oldest_gauge_.set(age);
    bool idle = sinks_.idle();
    {
        Lock lock(mutex_);
        idle_ = idle;
        empty_ = records_ == 0 && staged_.empty() && queued_.empty();
        records_published_ = records_;
    }
    state_.notify_all();
}

}  // namespace vigil::pipeline::buffer
