// SPDX-License-Identifier: Apache-2.0
// The sink interface: something that durably accepts check records (kafka_sink, pg_sink).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "vigil/batch.hpp"
#include "vigil/status.hpp"
#include "vigil/visibility.hpp"

namespace vigil {

/// A record a sink refuses for good: it will never be accepted however often it is retried
/// (a value out of range, a message too large). Identified by its index in the batch.
struct Rejection {
    std::size_t index = 0;
    std::string reason;
    /// True when the sink already wrote the record to its own dead-letter target (pg_sink's
    /// table). Otherwise the core sends it to the pipeline's `dead_letter` sink, or, without one,
    /// logs it in full with the reason. Either way it is counted and never silently dropped.
    bool dead_lettered = false;
};

/// What write() tells the core. Exactly one of: accepted (possibly with some records rejected),
/// or a transient failure to retry.
struct WriteResult {
    enum class Kind { Accepted, Retry };
    Kind kind = Kind::Accepted;
    std::string error;                // Retry: one line naming what failed (broker, table...)
    std::vector<Rejection> rejected;  // Accepted: records refused for good

    static WriteResult accepted() { return {}; }
    static WriteResult accepted_except(std::vector<Rejection> rejected) {
        return {Kind::Accepted, {}, std::move(rejected)};
    }
    static WriteResult retry(std::string error) { return {Kind::Retry, std::move(error), {}}; }
};

/// How a sink wants its batches. With max_records > 0, the core hands the
/// sink batches that were queued for it merged into one write() of up to max_records records,
/// waiting up to max_delay for more to arrive, so a sink with a high per-write cost (a database
/// transaction) writes fewer, larger batches. Every merged batch is acknowledged when the write
/// succeeds. The default asks for no merging.
struct Batching {
    std::size_t max_records = 0;
    std::chrono::nanoseconds max_delay{0};
};

/// A sink. The core drives each instance from one thread of its own, so a sink sees one call at
/// a time, batches in order. The core owns retry (capped exponential backoff with jitter),
/// exception capture, timing and outcome counting, so a sink only reports what happened.
class VIGIL_API Sink {
  public:
    virtual ~Sink() = default;

    /// Called once before the first write. A failure here is retried like a transient write
    /// failure (the broker may not be up yet); it is where connections are opened.
    virtual Status start() { return Status::success(); }

    /// Delivers a batch durably: return only when every record is committed (Kafka delivery
    /// report, PostgreSQL COMMIT) or refused for good. Records may be written again after a
    /// Retry, so a sink must be idempotent or accept duplicates at-least-once.
    virtual WriteResult write(const Batch& batch) = 0;

    /// Asks a blocking write() to give up soon and return Retry: the drain deadline has passed.
    /// Called from another thread.
    virtual void interrupt() {}

    /// Called once after the last write, before destruction: flush buffers, close connections.
    virtual void stop() {}

    /// Reaches the outside world to check it is usable (agent --check-config
    /// --with-environment). Never called on the data path.
    virtual Status healthcheck() { return Status::success(); }

    /// How the sink wants its batches (default: as the source makes them).
    virtual Batching batching() const { return {}; }

    /// Whether the sink can deliver right now, for a sink that waits out an outage inside write() rather
    /// than returning Retry (kafka_sink: librdkafka retries on its own): an error naming what
    /// is unreachable while it cannot. The core calls it about once a second from another
    /// thread for the vigil_sink_up gauge, so it must be cheap and thread-safe, and it must not
    /// reach the network. The default: healthy unless write() says otherwise.
    virtual Status health() const { return Status::success(); }

    /// Called once when the pipeline starts, before any write, for what a
    /// restart cannot fix and so must stop the agent (exit 78) with the reason: a schema
    /// registry that refuses the record's schema. A service that is merely unreachable is not
    /// that: return success, and let start() or write() try again.
    virtual Status preflight() { return Status::success(); }
};

}  // namespace vigil
