// SPDX-License-Identifier: Apache-2.0
#include "pipeline/pipeline.hpp"

#include <thread>

#include <fmt/core.h>

#include "pipeline/buffer/disk_buffer.hpp"
#include "pipeline/buffer/memory_buffer.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

struct Pipeline::Token final : StopToken {
    mutable Mutex mutex;
    mutable std::condition_variable cv;
    std::atomic<bool> stop{false};

    bool stop_requested() const override { return stop.load(); }
    bool wait_for(Duration timeout) const override {
        Lock lock(mutex);
        return cv.wait_for(lock.native(), timeout, [&]() VIGIL_REQUIRES(mutex) { return stop.load(); });
    }
    void request() {
        {
            Lock lock(mutex);
            stop = true;
        }
        cv.notify_all();
    }
};

Pipeline::Pipeline(PipelineOptions options, std::string source_instance, Source& source, std::vector<SinkSlot> sinks)
    : options_(std::move(options)), source_instance_(std::move(source_instance)), source_(source),
      dead_letter_(options_.name, options_.dead_letter), token_(std::make_unique<Token>()),
      log_("pipeline." + options_.name),
      emitted_(counter("vigil_pipeline_batches_emitted_total", {{"pipeline", options_.name}},
                       "Batches a source handed to the pipeline")),
      in_flight_gauge_(gauge("vigil_pipeline_batches_in_flight", {{"pipeline", options_.name}},
                             "Batches emitted and not yet acknowledged")),
      records_emitted_(counter("vigil_source_records_emitted_total", {{"instance", source_instance_}},
                               "Records a source handed to the pipeline")),
      records_delivered_(counter("vigil_source_records_acked_total",
                                 {{"instance", source_instance_}, {"status", "delivered"}},
                                 "Records acknowledged to their source, by final status")),
      records_undelivered_(counter("vigil_source_records_acked_total",
                                   {{"instance", source_instance_}, {"status", "undelivered"}},
                                   "Records acknowledged to their source, by final status")) {
    if (!options_.random) {
        options_.random = system_random();
    }
    options_.max_in_flight = std::max<std::size_t>(1, options_.max_in_flight);
    std::vector<std::string> names;
    for (auto& s : sinks) {
        // Read before the sink is moved into its runner.
        Batching batching = s.sink->batching();
        std::size_t index = runners_.size();
        names.push_back(s.instance);
        runners_.push_back(std::make_unique<SinkRunner>(
            s.instance, std::move(s.sink), s.retry, batching, dead_letter_,
            [this, index](std::uint64_t seq, bool ok) { buffer_->done(index, seq, ok); }, options_.random));
        runners_.back()->set_in_flight_bound(options_.max_in_flight);
    }
    auto resolved = [this](std::uint64_t sequence, bool ok) { on_sink_done(sequence, ok); };
    if (options_.buffer.type == BufferOptions::Type::Disk) {
        buffer::DiskBuffer::Tuning tuning;
        tuning.window = options_.max_in_flight;
        buffer_ = std::make_unique<buffer::DiskBuffer>(
            options_.name, options_.buffer, std::move(names), tuning,
            [this](std::size_t sink, std::shared_ptr<const Batch> b) { runners_[sink]->enqueue(std::move(b)); },
            resolved);
    } else {
        buffer_ = std::make_unique<buffer::MemoryBuffer>(runners_, resolved);
    }
}

Pipeline::~Pipeline() {
    for (auto& r : runners_) {
        r->abort();
        r->close();
    }
    buffer_->close();
}

std::size_t Pipeline::in_flight() const {
    Lock lock(mutex_);
    return in_flight_;
}

void Pipeline::request_stop() {
    {
        Lock lock(mutex_);
        stopping_ = true;
    }
    space_.notify_all();
    token_->request();
}

bool Pipeline::emit(Batch batch, AckFn on_ack) {
    std::optional<std::uint64_t> resolved;
    {
        Lock lock(mutex_);
        space_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return has_room(); });
        if (stopping_) {
            return false;
        }
        resolved = accept(std::move(batch), std::move(on_ack));
    }
    if (resolved) {
        on_sink_done(*resolved, true);
    }
    return true;
}

Emitter::Offer Pipeline::offer(Batch& batch, AckFn& on_ack, Duration timeout) {
    std::optional<std::uint64_t> resolved;
    {
        Lock lock(mutex_);
        if (!space_.wait_for(lock.native(), timeout, [&]() VIGIL_REQUIRES(mutex_) { return has_room(); })) {
            return Offer::Full;
        }
        if (stopping_) {
            return Offer::Stopping;
        }
        resolved = accept(std::move(batch), std::move(on_ack));
    }
    if (resolved) {
        on_sink_done(*resolved, true);
    }
    return Offer::Accepted;
}

std::optional<std::uint64_t> Pipeline::accept(Batch batch, AckFn on_ack) {
    batch.sequence = next_sequence_++;
    ++in_flight_;
    in_flight_gauge_.set(static_cast<double>(in_flight_));
    emitted_.inc();
    records_emitted_.inc(batch.records.size());
    auto sequence = batch.sequence;
    auto needed = buffer_->resolutions_per_batch();
    pending_[sequence] = Pending{needed, true};
    tracker_.add(sequence, std::move(on_ack), batch.records.size());
    buffer_->append(std::move(batch));
    if (needed == 0) {  // no sink to wait for
        return sequence;
    }
    return std::nullopt;
}

void Pipeline::on_sink_done(std::uint64_t sequence, bool delivered) {
    {
        Lock lock(mutex_);
        auto it = pending_.find(sequence);
        if (it == pending_.end()) {
            return;
        }
        it->second.delivered = it->second.delivered && delivered;
        if (it->second.remaining > 0) {
            --it->second.remaining;
        }
        if (it->second.remaining > 0) {
            return;
        }
        delivered = it->second.delivered;
        pending_.erase(it);
    }
    std::size_t released = 0;
    {
        Lock dispatch(dispatch_);
        auto ready = tracker_.resolve(sequence, delivered ? AckStatus::Delivered : AckStatus::Undelivered);
        for (auto& r : ready) {
            if (r.status == AckStatus::Delivered) {
                ++result_.batches_delivered;
                result_.records_delivered += r.records;
                records_delivered_.inc(r.records);
            } else {
                ++result_.batches_undelivered;
                result_.records_undelivered += r.records;
                records_undelivered_.inc(r.records);
            }
            try {
                if (r.ack) {
                    r.ack(r.status);
                }
            } catch (const std::exception& e) {
                log_.error("{}: acknowledgement callback threw: {}", source_instance_, e.what());
            }
        }
        released = ready.size();
    }
    if (released > 0) {
        {
            Lock lock(mutex_);
            in_flight_ -= released;
            in_flight_gauge_.set(static_cast<double>(in_flight_));
        }
        space_.notify_all();
        drained_.notify_all();
    }
}

void Pipeline::watch_sinks() {
    while (!token_->wait_for(std::chrono::seconds(1))) {
        for (auto& r : runners_) {
            r->refresh_up();
        }
    }
}

RunResult Pipeline::run() {
    for (auto& r : runners_) {
        r->start();
    }
    if (auto st = buffer_->open(); !st.ok()) {
        result_.ok = false;
        result_.error = st.message();
        log_.error("{}", st.message());
        return result_;
    }
    buffer_->start();
    std::thread watcher([this] { watch_sinks(); });
    Status source_status;
    std::thread source_thread([&] {
        try {
            source_status = source_.run(*this, *token_, RunOptions{options_.once});
        } catch (const std::exception& e) {
            source_status = Status::error(fmt::format("{}: source threw: {}", source_instance_, e.what()));
        }
        // A source that returns on its own (--once, or failure) ends the pipeline.
        request_stop();
    });
    source_thread.join();

    if (!source_status.ok()) {
        result_.ok = false;
        result_.error = source_status.message();
        log_.error("{}", source_status.message());
    }

    // Drain: wait for every accepted batch to resolve (delivered, or stored in a disk buffer),
    // up to the deadline.
    auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    {
        Lock lock(mutex_);
        if (in_flight_ > 0) {
            log_.info("draining {} batches in flight (deadline {})", in_flight_,
                      format_duration(options_.drain_timeout));
        }
        bool drained =
            drained_.wait_until(lock.native(), deadline, [&]() VIGIL_REQUIRES(mutex_) { return in_flight_ == 0; });
        if (!drained) {
            log_.warn("drain deadline of {} passed with {} batches in flight; abandoning them",
                      format_duration(options_.drain_timeout), in_flight_);
        }
    }
    auto drained = buffer_->drain(deadline, options_.once, [this] {
        for (auto& r : runners_) {
            if (!r->refresh_up()) {
                log_.info("{} is down: not waiting for it; its records stay in the buffer", r->instance());
                r->abort();
            }
        }
    });
    if (drained.records_left) {
        log_.warn(
            "drain deadline of {} passed with {} records still in the buffer; they stay stored and are "
            "delivered after the next start",
            format_duration(options_.drain_timeout), *drained.records_left);
    }
    if (!drained.sinks_idle) {
        log_.warn("drain deadline of {} passed with sinks still writing; their batches stay in the buffer",
                  format_duration(options_.drain_timeout));
    }
    for (auto& r : runners_) {
        r->abort();  // no-op for idle runners; resolves whatever is left as undelivered
    }
    for (auto& r : runners_) {
        r->close();
    }
    watcher.join();
    buffer_->close();
    result_.records_buffered = buffer_->records();
    result_.records_dropped = buffer_->dropped();
    if (options_.once && result_.records_buffered > 0) {
        result_.ok = false;  // one round was asked for, and part of it was not handed on
    }
    if (result_.records_buffered > 0) {
        log_.info("{} records stay in the buffer {}; the sinks get them after the next start", result_.records_buffered,
                  options_.buffer.path.string());
    }
    if (result_.batches_undelivered > 0) {
        result_.ok = false;
        log_.error("{} batches ({} records) could not be delivered; the source was not acknowledged for them",
                   result_.batches_undelivered, result_.records_undelivered);
    }
    log_.info("{}", buffer_->stopped_summary(result_.batches_delivered, result_.records_delivered));
    return result_;
}

}  // namespace vigil::pipeline
