// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pg_sink_config.hpp"
#include "pg_writer.hpp"
#include "writer_pool.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/sink.hpp"

namespace vigil::plugins::pg_sink {

/// Writes records to a PostgreSQL table, exactly once per check_id: each transaction COPYs its
/// rows into a staging table and moves them with INSERT ... ON CONFLICT (check_id) DO NOTHING,
/// so a batch delivered twice (a Kafka redelivery, a retry after a lost COMMIT reply) stores
/// each row once. write() returns after COMMIT; a row the database refuses goes to the
/// dead-letter table in the same transaction, and the rest commit.
class PgSink final : public Sink {
  public:
    PgSink(Config config, std::string instance, Logger log);
    ~PgSink() override;

    Status start() override;
    WriteResult write(const Batch& batch) override;
    void interrupt() override;
    void stop() override;
    Status healthcheck() override;
    Batching batching() const override { return {config_.max_rows, config_.max_delay}; }

  private:
    /// The writer's maintain(), at start and then every 5 minutes (from write(): an idle sink
    /// needs none). `all`: the hourly part too, whenever it last ran (at start).
    void upkeep(bool all);

    Config config_;
    std::string instance_;
    Logger log_;
    StateCache state_cache_;  // before writers_, which point to it
    std::vector<std::unique_ptr<Writer>> writers_;
    std::unique_ptr<WriterPool> pool_;  // after writers_: its threads stop before they go
    bool started_ = false;
    std::chrono::steady_clock::time_point next_upkeep_{}, next_hourly_upkeep_{};
    Counter& rows_;
    Counter& staged_;
    Counter& transactions_;
    Counter& dead_lettered_;
    Counter& events_;
    Gauge& batch_seconds_;
    Histogram& commit_seconds_;
};

}  // namespace vigil::plugins::pg_sink
