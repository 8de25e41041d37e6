// SPDX-License-Identifier: Apache-2.0
// The disk buffer's coordinator: what callers hand it (appends, acknowledgements, drain) and the
// one thread that owns the store, looping over commit and feed (disk_buffer_commit.cpp,
// disk_buffer_feed.cpp; opening is in disk_buffer_open.cpp).
#include "pipeline/buffer/disk_buffer.hpp"

#include <fmt/core.h>

#include "pipeline/buffer/disk_buffer_shared.hpp"
#include "pipeline/buffer/stored_record.hpp"
#include "vigil/config.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline::buffer {

namespace {
using namespace detail;

constexpr const char* kDroppedHelp =
    "Records the disk buffer lost, by reason: full (when_full: drop_oldest), corrupt (failed its checksum)";

Labels labels(const std::string& pipeline, const char* reason) { return {{"pipeline", pipeline}, {"reason", reason}}; }
}  // namespace

DiskBuffer::DiskBuffer(std::string pipeline, BufferOptions options, std::vector<std::string> sinks, Tuning tuning,
                       Feed feed, Stored stored)
    : pipeline_(std::move(pipeline)), options_(std::move(options)), tuning_(tuning), feed_(std::move(feed)),
      stored_(std::move(stored)), log_("buffer." + pipeline_), sinks_(std::move(sinks)), budget_(options_.max_size),
      write_complaint_(std::chrono::seconds(30)), full_complaint_(std::chrono::seconds(60)),
      drop_complaint_(std::chrono::seconds(30)),
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
    max_bytes_gauge_.set(static_cast<double>(options_.max_size));
}

DiskBuffer::~DiskBuffer() { close(); }

void DiskBuffer::start() {
    thread_ = std::thread([this] { loop(); });
}

void DiskBuffer::append(std::uint64_t token, Batch batch) {
    {
        Lock lock(mutex_);
        queued_.push_back(Append{token, std::move(batch), {}, 0});
        empty_ = false;
    }
    wake_.notify_all();
}

void DiskBuffer::done(std::size_t sink, std::uint64_t sequence, bool delivered) {
    {
        Lock lock(mutex_);
        dones_.push_back(Done{sink, sequence, delivered});
    }
    wake_.notify_all();
}

void DiskBuffer::stop_feeding() {
    {
        Lock lock(mutex_);
        feeding_ = false;
    }
    wake_.notify_all();
}

bool DiskBuffer::wait_sinks_idle(Clock::time_point deadline) {
    Lock lock(mutex_);
    return state_.wait_until(lock.native(), deadline, [&]() VIGIL_REQUIRES(mutex_) { return idle_; });
}

bool DiskBuffer::wait_empty(Clock::time_point deadline) {
    Lock lock(mutex_);
    return state_.wait_until(lock.native(), deadline,
                             [&]() VIGIL_REQUIRES(mutex_) { return empty_ && queued_.empty(); });
}

Buffer::Drained DiskBuffer::drain(Deadline deadline, bool once, const std::function<void()>& give_up_on_down_sinks) {
    Drained out;
    // One round (once): hand on everything, as a memory pipeline would.
    if (once && !wait_empty(deadline)) {
        out.records_left = records();
    }
    stop_feeding();
    give_up_on_down_sinks();
    out.sinks_idle = wait_sinks_idle(deadline);
    return out;
}

std::string DiskBuffer::stopped_summary(std::uint64_t batches, std::uint64_t records) const {
    return fmt::format(
        "stopped: {} batches ({} records) stored in the buffer, {} of its records dropped when it was full; {} "
        "records stay in it",
        batches, records, dropped(), this->records());
}

std::uint64_t DiskBuffer::records() const {
    Lock lock(mutex_);
    return records_published_;
}

void DiskBuffer::close() {
    stop_and_join(mutex_, &closing_, wake_, thread_);
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
        a.bytes += v.size() + SizeBudget::kRecordOverhead;
        a.values.push_back(std::move(v));
    }
}

void DiskBuffer::loop() {
    for (;;) {
        std::vector<Done> dones;
        bool closing = false;
        bool feeding = true;
        {
            Lock lock(mutex_);
            auto deadline = Clock::now() + kTick;
            if (retry_at_ > Clock::now()) {
                deadline = std::min(deadline, retry_at_);
            }
            // Staged batches that may fit now (after a commit that only freed room) are work too;
            // ones waiting for room (full) or for a retry after an error are not.
            wake_.wait_until(lock.native(), deadline, [&]() VIGIL_REQUIRES(mutex_) {
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
            sinks_.resolve(d.sink, d.sequence, d.delivered);
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

}  // namespace vigil::pipeline::buffer
