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

// One source's side of the pipeline: the Emitter it is given, its bound of batches in flight, and
// its acknowledgements, released in its own order (a slow batch of one source never holds back
// another's).
class Pipeline::Feed final : public Emitter {
  public:
    Feed(Pipeline& pipeline, std::size_t index, SourceSlot slot)
        : pipeline_(pipeline), index(index), instance(std::move(slot.instance)), source(*slot.source),
          records_emitted(counter("vigil_source_records_emitted_total", {{"instance", instance}},
                                  "Records a source handed to the pipeline")),
          records_delivered(counter("vigil_source_records_acked_total",
                                    {{"instance", instance}, {"status", "delivered"}},
                                    "Records acknowledged to their source, by final status")),
          records_undelivered(counter("vigil_source_records_acked_total",
                                      {{"instance", instance}, {"status", "undelivered"}},
                                      "Records acknowledged to their source, by final status")) {}

    bool emit(Batch batch, AckFn on_ack) override { return pipeline_.emit(*this, std::move(batch), std::move(on_ack)); }
    Offer offer(Batch& batch, AckFn& on_ack, Duration timeout) override {
        return pipeline_.offer(*this, batch, on_ack, timeout);
    }

  private:
    Pipeline& pipeline_;

  public:
    const std::size_t index;
    const std::string instance;
    Source& source;
    Mutex dispatch;  // serialises this source's ack dispatch so its callbacks run in sequence order
    AckTracker tracker;
    Counter& records_emitted;
    Counter& records_delivered;
    Counter& records_undelivered;
};

Pipeline::Pipeline(PipelineOptions options, std::string source_instance, Source& source, std::vector<SinkSlot> sinks)
    : Pipeline(std::move(options), std::vector<SourceSlot>{{std::move(source_instance), &source}}, std::move(sinks)) {}

Pipeline::Pipeline(PipelineOptions options, std::vector<SourceSlot> sources, std::vector<SinkSlot> sinks)
    : options_(std::move(options)), dead_letter_(options_.name, options_.dead_letter),
      token_(std::make_unique<Token>()), log_("pipeline." + options_.name),
      emitted_(counter("vigil_pipeline_batches_emitted_total", {{"pipeline", options_.name}},
                       "Batches a source handed to the pipeline")),
      in_flight_gauge_(gauge("vigil_pipeline_batches_in_flight", {{"pipeline", options_.name}},
                             "Batches emitted and not yet acknowledged")) {
    if (!options_.random) {
        options_.random = system_random();
    }
    options_.max_in_flight = std::max<std::size_t>(1, options_.max_in_flight);
    for (auto& slot : sources) {
        feeds_.push_back(std::make_unique<Feed>(*this, feeds_.size(), std::move(slot)));
    }
    {
        Lock lock(mutex_);
        feed_in_flight_.assign(feeds_.size(), 0);
    }
    // The sinks and the buffer see every source's batches: their bound is the sum of the sources'.
    std::size_t bound = options_.max_in_flight * std::max<std::size_t>(1, feeds_.size());
    std::vector<std::string> names;
    for (auto& s : sinks) {
        // Read before the sink is moved into its runner.
        Batching batching = s.sink->batching();
        std::size_t index = runners_.size();
        names.push_back(s.instance);
        runners_.push_back(std::make_unique<SinkRunner>(
            s.instance, std::move(s.sink), s.retry, batching, dead_letter_,
            [this, index](std::uint64_t seq, bool ok) { buffer_->done(index, seq, ok); }, options_.random));
        runners_.back()->set_in_flight_bound(bound);
    }
    auto resolved = [this](std::uint64_t sequence, bool ok) { on_sink_done(sequence, ok); };
    if (options_.buffer.type == BufferOptions::Type::Disk) {
        buffer::DiskBuffer::Tuning tuning;
        tuning.window = bound;
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

bool Pipeline::has_room(const Feed& feed) const {
    return stopping_ || feed_in_flight_[feed.index] < options_.max_in_flight;
}

bool Pipeline::emit(Feed& feed, Batch batch, AckFn on_ack) {
    std::optional<std::uint64_t> resolved;
    {
        Lock lock(mutex_);
        space_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return has_room(feed); });
        if (stopping_) {
            return false;
        }
        resolved = accept(feed, std::move(batch), std::move(on_ack));
    }
    if (resolved) {
        on_sink_done(*resolved, true);
    }
    return true;
}

Emitter::Offer Pipeline::offer(Feed& feed, Batch& batch, AckFn& on_ack, Duration timeout) {
    std::optional<std::uint64_t> resolved;
    {
        Lock lock(mutex_);
        if (!space_.wait_for(lock.native(), timeout, [&]() VIGIL_REQUIRES(mutex_) { return has_room(feed); })) {
            return Emitter::Offer::Full;
        }
        if (stopping_) {
            return Emitter::Offer::Stopping;
        }
        resolved = accept(feed, std::move(batch), std::move(on_ack));
    }
    if (resolved) {
        on_sink_done(*resolved, true);
    }
    return Emitter::Offer::Accepted;
}

std::optional<std::uint64_t> Pipeline::accept(Feed& feed, Batch batch, AckFn on_ack) {
    batch.sequence = next_sequence_++;
    ++in_flight_;
    ++feed_in_flight_[feed.index];
    in_flight_gauge_.set(static_cast<double>(in_flight_));
    emitted_.inc();
    feed.records_emitted.inc(batch.records.size());
    auto sequence = batch.sequence;
    auto needed = buffer_->resolutions_per_batch();
    pending_[sequence] = Pending{needed, true, &feed};
    feed.tracker.add(sequence, std::move(on_ack), batch.records.size());
    buffer_->append(std::move(batch));
    if (needed == 0) {  // no sink to wait for
        return sequence;
    }
    return std::nullopt;
}

void Pipeline::on_sink_done(std::uint64_t sequence, bool delivered) {
    Feed* feed = nullptr;
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
        feed = it->second.feed;
        pending_.erase(it);
    }
    std::size_t released = 0;
    {
        Lock dispatch(feed->dispatch);
        auto ready = feed->tracker.resolve(sequence, delivered ? AckStatus::Delivered : AckStatus::Undelivered);
        for (auto& r : ready) {
            {
                Lock totals(results_);
                if (r.status == AckStatus::Delivered) {
                    ++result_.batches_delivered;
                    result_.records_delivered += r.records;
                } else {
                    ++result_.batches_undelivered;
                    result_.records_undelivered += r.records;
                }
            }
            (r.status == AckStatus::Delivered ? feed->records_delivered : feed->records_undelivered).inc(r.records);
            try {
                if (r.ack) {
                    r.ack(r.status);
                }
            } catch (const std::exception& e) {
                log_.error("{}: acknowledgement callback threw: {}", feed->instance, e.what());
            }
        }
        released = ready.size();
    }
    if (released > 0) {
        {
            Lock lock(mutex_);
            in_flight_ -= released;
            feed_in_flight_[feed->index] -= released;
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

void Pipeline::run_sources() {
    std::vector<Status> statuses(feeds_.size());
    std::atomic<std::size_t> running{feeds_.size()};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < feeds_.size(); ++i) {
        threads.emplace_back([this, i, &statuses, &running] {
            Feed& feed = *feeds_[i];
            Status status;
            try {
                status = feed.source.run(feed, *token_, RunOptions{options_.once});
            } catch (const std::exception& e) {
                status = Status::error(fmt::format("{}: source threw: {}", feed.instance, e.what()));
            }
            statuses[i] = status;
            // A source that fails ends the pipeline; sources that return on their own (--once)
            // end it when the last of them does.
            if (!status.ok() || running.fetch_sub(1) == 1) {
                request_stop();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::string errors;
    for (const auto& status : statuses) {
        if (!status.ok()) {
            log_.error("{}", status.message());
            errors += (errors.empty() ? "" : "; ") + status.message();
        }
    }
    if (feeds_.empty()) {
        request_stop();
    }
    if (!errors.empty()) {
        Lock totals(results_);
        result_.ok = false;
        result_.error = errors;
    }
}

RunResult Pipeline::run() {
    for (auto& r : runners_) {
        r->start();
    }
    if (auto st = buffer_->open(); !st.ok()) {
        log_.error("{}", st.message());
        Lock totals(results_);
        result_.ok = false;
        result_.error = st.message();
        return result_;
    }
    buffer_->start();
    std::thread watcher([this] { watch_sinks(); });
    run_sources();

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
    Lock totals(results_);
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
