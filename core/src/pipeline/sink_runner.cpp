// SPDX-License-Identifier: Apache-2.0
#include "pipeline/sink_runner.hpp"
#include "vigil/sync.hpp"

#include <fmt/core.h>

namespace vigil::pipeline {

namespace {
Labels labels(const std::string& instance) { return {{"instance", instance}}; }
}  // namespace

SinkRunner::SinkRunner(std::string instance, std::unique_ptr<Sink> sink, RetryPolicy retry, Batching batching,
                       DeadLetter& dead_letter, Done done, std::function<double()> random)
    : instance_(std::move(instance)), sink_(std::move(sink)), retry_(retry), batching_(batching),
      dead_letter_(dead_letter), done_(std::move(done)), backoff_(retry.initial, retry.max, std::move(random)),
      log_(instance_), batches_ok_(counter("vigil_sink_batches_total", labels(instance_), "Batches a sink accepted")),
      records_ok_(counter("vigil_sink_records_total", labels(instance_), "Records a sink accepted")),
      retries_(counter("vigil_sink_retries_total", labels(instance_), "Transient sink failures, each retried")),
      rejected_(counter("vigil_sink_rejected_total", labels(instance_), "Records a sink refused for good")),
      abandoned_(counter("vigil_sink_abandoned_batches_total", labels(instance_),
                         "Batches not delivered before the drain deadline")),
      write_seconds_(histogram("vigil_sink_write_seconds", labels(instance_), latency_buckets(),
                               "Duration of each write (one batch, or merged batches), failures included")),
      up_(gauge("vigil_sink_up", labels(instance_),
                "1 while the sink delivers; 0 while its writes fail or it reports an outage it is waiting out")) {
    up_.set(1);
}

bool SinkRunner::refresh_up() {
    bool up = !last_failed_.load();
    if (up) {
        try {
            up = sink_->health().ok();
        } catch (...) {
            up = false;
        }
    }
    up_.set(up ? 1 : 0);
    return up;
}

void SinkRunner::set_failing(bool failing) {
    last_failed_ = failing;
    up_.set(failing ? 0 : 1);
}

bool SinkRunner::dead_letter(const std::vector<DeadLetter::Letter>& letters) {
    // The write itself is done with; its backoff serves the letters' retries.
    backoff_.reset();
    Complaint complaint(std::chrono::seconds(30));
    std::string error;
    while (!dead_letter_.write(instance_, letters, error)) {
        retries_.inc();
        set_failing(true);
        auto wait = backoff_.next();
        if (complaint.complain()) {
            log_.error("{}; {} dead letters wait and their batch is not acknowledged; retrying in {}", error,
                       letters.size(), format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(wait)));
        }
        if (!wait_backoff(wait)) {
            return false;
        }
    }
    if (complaint.release()) {
        log_.info("dead letters written again to {}", dead_letter_.path().string());
    }
    return true;
}

SinkRunner::~SinkRunner() {
    abort();
    close();
}

void SinkRunner::start() {
    thread_ = std::thread([this] { loop(); });
}

void SinkRunner::enqueue(std::shared_ptr<const Batch> batch) {
    {
        Lock lock(mutex_);
        queue_.push_back(std::move(batch));
    }
    cv_.notify_all();
}

void SinkRunner::abort() {
    {
        Lock lock(mutex_);
        aborted_ = true;
    }
    cv_.notify_all();
    sink_->interrupt();
}

void SinkRunner::close() {
    bool ran = thread_.joinable();
    stop_and_join(mutex_, &closing_, cv_, thread_);
    if (ran && started_) {
        sink_->stop();  // after its thread: nothing writes meanwhile
    }
}

std::shared_ptr<const Batch> SinkRunner::take(std::vector<std::uint64_t>& taken) {
    Lock lock(mutex_);
    cv_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return !queue_.empty() || closing_ || aborted_; });
    if (queue_.empty()) {
        return nullptr;
    }
    auto first = std::move(queue_.front());
    queue_.pop_front();
    taken.push_back(first->sequence);
    if (batching_.max_records == 0 || first->records.size() >= batching_.max_records) {
        return first;
    }
    // Merge what is queued, waiting up to max_delay for more, while the total stays within
    // max_records. Never past a stop: closing or aborting writes what is there.
    auto merged = std::make_shared<Batch>(*first);
    auto deadline = std::chrono::steady_clock::now() + batching_.max_delay;
    for (;;) {
        while (!queue_.empty() && merged->records.size() + queue_.front()->records.size() <= batching_.max_records) {
            const auto& next = *queue_.front();
            merged->records.insert(merged->records.end(), next.records.begin(), next.records.end());
            taken.push_back(next.sequence);
            queue_.pop_front();
        }
        bool full = !queue_.empty() || merged->records.size() >= batching_.max_records ||
                    (in_flight_bound_ > 0 && taken.size() >= in_flight_bound_);
        if (full || closing_ || aborted_ || !cv_.wait_until(lock.native(), deadline, [&]() VIGIL_REQUIRES(mutex_) {
                return !queue_.empty() || closing_ || aborted_;
            })) {
            return merged;
        }
    }
}

void SinkRunner::loop() {
    for (;;) {
        std::vector<std::uint64_t> taken;
        auto batch = take(taken);
        if (!batch) {
            return;
        }
        bool delivered = deliver(*batch);
        if (!delivered) {
            abandoned_.inc(taken.size());
        }
        for (auto sequence : taken) {
            done_(sequence, delivered);
        }
    }
}

bool SinkRunner::wait_backoff(Duration d) {
    Lock lock(mutex_);
    return !cv_.wait_for(lock.native(), d, [&]() VIGIL_REQUIRES(mutex_) { return aborted_; });
}

bool SinkRunner::deliver(const Batch& batch) {
    backoff_.reset();
    std::string last_error;
    for (;;) {
        {
            Lock lock(mutex_);
            if (aborted_) {
                return false;
            }
        }
        WriteResult result = WriteResult::retry("");
        try {
            if (!started_) {
                Status s = sink_->start();
                if (s.ok()) {
                    started_ = true;
                } else {
                    result = WriteResult::retry(s.message());
                }
            }
            if (started_) {
                auto t0 = std::chrono::steady_clock::now();
                result = sink_->write(batch);
                write_seconds_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
        } catch (const std::exception& e) {
            result = WriteResult::retry(fmt::format("sink threw: {}", e.what()));
        } catch (...) {
            result = WriteResult::retry("sink threw a non-standard exception");
        }
        if (result.kind == WriteResult::Kind::Accepted) {
            if (complaint_.release()) {
                log_.info("recovered after {} failed attempts (last error: {})", backoff_.attempts(), last_error);
            }
            std::vector<DeadLetter::Letter> letters;
            for (const auto& r : result.rejected) {
                rejected_.inc();
                if (!r.dead_lettered && r.index < batch.records.size()) {
                    letters.push_back({&batch.records[r.index], r.reason});
                }
            }
            if (!dead_letter(letters)) {
                return false;
            }
            set_failing(false);
            batches_ok_.inc();
            records_ok_.inc(batch.records.size() - std::min(batch.records.size(), result.rejected.size()));
            return true;
        }
        retries_.inc();
        last_error = result.error.empty() ? "unspecified failure" : result.error;
        if (retry_.max_attempts > 0 && backoff_.attempts() + 1 >= retry_.max_attempts) {
            log_.error("batch {} ({} records): giving up after {} attempts: {}; dead-lettering its records",
                       batch.sequence, batch.records.size(), retry_.max_attempts, last_error);
            std::vector<DeadLetter::Letter> letters;
            for (const auto& rec : batch.records) {
                letters.push_back({&rec, "gave up after retries: " + last_error});
            }
            rejected_.inc(letters.size());
            return dead_letter(letters);  // the sink itself still fails: it stays down
        }
        set_failing(true);
        Duration wait = backoff_.next();
        if (complaint_.complain()) {
            auto shown = wait >= std::chrono::milliseconds(1)
                             ? Duration(std::chrono::duration_cast<std::chrono::milliseconds>(wait))
                             : Duration(std::chrono::duration_cast<std::chrono::microseconds>(wait));
            log_.warn("{}; retrying in {} (attempt {}{})", last_error, format_duration(shown), backoff_.attempts(),
                      complaint_.suppressed() ? fmt::format(", {} similar suppressed", complaint_.suppressed()) : "");
        }
        if (!wait_backoff(wait)) {
            return false;
        }
    }
}

}  // namespace vigil::pipeline
