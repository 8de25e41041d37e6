// SPDX-License-Identifier: Apache-2.0
#include "pg_sink.hpp"

#include <chrono>

#include <fmt/core.h>
#include <fmt/format.h>

namespace vigil::plugins::pg_sink {

namespace {
// Below this, splitting a write across connections costs more than it saves.
constexpr std::size_t kMinRowsPerConnection = 256;
}  // namespace

PgSink::PgSink(Config config, std::string instance, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), log_(std::move(log)),
      rows_(counter("vigil_pg_sink_rows_total", {{"instance", instance_}}, "Rows committed (duplicates included)")),
      staged_(counter("vigil_pg_sink_staged_rows_total", {{"instance", instance_}},
                      "Rows sent by COPY; past rows_total by what bad rows (and retries) cost in re-sends")),
      transactions_(counter("vigil_pg_sink_transactions_total", {{"instance", instance_}}, "Transactions committed")),
      dead_lettered_(counter("vigil_pg_sink_dead_lettered_total", {{"instance", instance_}},
                             "Rows the database refused, stored in the dead-letter table")),
      events_(counter("vigil_pg_sink_site_events_total", {{"instance", instance_}},
                      "Site state changes committed to site_events (with state:)")),
      batch_seconds_(gauge("vigil_pg_sink_last_write_seconds", {{"instance", instance_}},
                           "How long the last write took, COMMIT included")),
      commit_seconds_(histogram("vigil_pg_sink_write_seconds", {{"instance", instance_}}, latency_buckets(),
                                "Duration of each committed write (all its transactions), COMMIT included")) {
    for (int i = 0; i < config_.connections; ++i) {
        writers_.push_back(std::make_unique<Writer>(config_, log_, staged_, &state_cache_));
    }
    pool_ = std::make_unique<WriterPool>(writers_.size() - 1);
}

PgSink::~PgSink() { stop(); }

Status PgSink::start() {
    if (!started_) {
        if (auto st = pg::apply_migrations(config_.url, config_.migrations, log_); !st.ok()) {
            return st;
        }
    }
    std::vector<std::string> missing;
    if (auto st = writers_.front()->connect(&missing); !st.ok()) {
        return st;
    }
    if (!missing.empty()) {
        log_.warn("table {} has no column for {}: those fields are not stored", config_.table,
                  fmt::join(missing, ", "));
    }
    started_ = true;
    upkeep(true);
    return Status::success();
}

void PgSink::upkeep(bool all) {
    if (!writers_.front()->partitioned() && !config_.rollups.enabled) {
        return;
    }
    // Every 5 minutes the daily rollups (how stale the page's 30 and 90 days may be); hourly the
    // rest: partitions are made two days ahead, so an hour late (a failed run) harms nothing.
    auto now = std::chrono::steady_clock::now();
    bool hourly = all || now >= next_hourly_upkeep_;
    next_upkeep_ = now + std::chrono::minutes(5);
    if (hourly) {
        next_hourly_upkeep_ = now + std::chrono::hours(1);
    }
    std::vector<std::string> done;
    if (auto st = writers_.front()->maintain(done, hourly); !st.ok()) {
        log_.warn("upkeep of {} failed, tried again in 5 minutes: {}", config_.table, st.message());
        return;
    }
    for (const auto& line : done) {
        log_.info("upkeep: {}", line);
    }
}

WriteResult PgSink::write(const Batch& batch) {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = batch.records.size();
    if (n == 0) {
        return WriteResult::accepted();
    }
    if (t0 >= next_upkeep_) {
        upkeep(false);
    }
    std::size_t chunks = std::max((n + config_.max_rows - 1) / config_.max_rows,
                                  std::min(writers_.size(), (n + kMinRowsPerConnection - 1) / kMinRowsPerConnection));
    std::vector<std::vector<std::size_t>> parts(chunks);
    if ((config_.state.enabled || config_.rollups.enabled) && chunks > 1) {
        // A site's rows go to one chunk, in batch order, so one transaction moves a site's state
        // and sums, and parallel writers never wait on each other's site_state or rollup rows.
        std::hash<std::string> hash;
        for (std::size_t i = 0; i < n; ++i) {
            parts[hash(batch.records[i].check.name) % chunks].push_back(i);
        }
    } else {
        std::size_t per = (n + chunks - 1) / chunks;
        for (std::size_t i = 0; i < n; ++i) {
            parts[i / per].push_back(i);
        }
    }
    std::size_t used = std::min(chunks, writers_.size());
    std::vector<std::vector<ChunkResult>> results(used);
    auto work = [&](std::size_t w) {
        for (std::size_t c = w; c < chunks; c += used) {
            if (parts[c].empty()) {
                continue;
            }
            results[w].push_back(writers_[w]->write(batch, parts[c]));
            if (results[w].back().retry) {
                return;
            }
        }
    };
    pool_->run(used, work);  // what a writer throws is thrown here, after every writer is done
    std::vector<Rejection> rejected;
    std::size_t committed_chunks = 0;
    std::size_t events = 0;
    for (auto& per_writer : results) {
        for (auto& r : per_writer) {
            if (r.retry) {
                // Chunks already committed are stored; the retry writes them again and
                // ON CONFLICT keeps one row each.
                return WriteResult::retry(r.error);
            }
            ++committed_chunks;
            events += r.events;
            rejected.insert(rejected.end(), std::make_move_iterator(r.rejected.begin()),
                            std::make_move_iterator(r.rejected.end()));
        }
    }
    transactions_.inc(committed_chunks);
    rows_.inc(n - rejected.size());
    dead_lettered_.inc(rejected.size());
    events_.inc(events);
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    batch_seconds_.set(seconds);
    commit_seconds_.observe(seconds);
    return WriteResult::accepted_except(std::move(rejected));
}

void PgSink::interrupt() {
    for (auto& w : writers_) {
        w->interrupt();
    }
}

void PgSink::stop() {
    // The days marked since the last upkeep, summed before leaving, so that a stopped consumer
    // leaves the daily rollups whole (only over a live connection: stopping must not wait on a
    // database that is gone).
    if (config_.rollups.enabled && !writers_.empty() && writers_.front()->connected()) {
        std::vector<std::string> done;
        if (auto st = writers_.front()->maintain(done, false); !st.ok()) {
            log_.warn("daily rollups not summed at stop: {}", st.message());
        }
    }
    writers_.clear();
}

Status PgSink::healthcheck() {
    Writer probe(config_, log_, staged_);
    std::vector<std::string> missing;
    auto st = probe.connect(&missing);
    if (st.ok() && !missing.empty()) {
        log_.warn("table {} has no column for {}", config_.table, fmt::join(missing, ", "));
    }
    return st;
}

}  // namespace vigil::plugins::pg_sink
