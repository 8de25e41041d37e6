// SPDX-License-Identifier: Apache-2.0
// The source interface: something that produces check records (http_check, kafka_source).
#pragma once

#include <memory>

#include "vigil/batch.hpp"
#include "vigil/config.hpp"
#include "vigil/status.hpp"
#include "vigil/visibility.hpp"

namespace vigil {

/// Where a source hands its batches. Implemented by the core; thread-safe.
class VIGIL_API Emitter {
  public:
    virtual ~Emitter() = default;
    /// Hands a batch to the pipeline. Blocks while the pipeline's bound of unacknowledged batches
    /// is reached (backpressure). Returns true when accepted: `on_ack` will then be called exactly
    /// once, later, with the batch's final status. Returns false when the pipeline is stopping:
    /// the batch was not accepted and `on_ack` is never called.
    virtual bool emit(Batch batch, AckFn on_ack) = 0;

    enum class Offer { Accepted, Full, Stopping };
    /// Like emit(), but waits at most `timeout` for room.
    /// Accepted: `batch` and `on_ack` were taken, `on_ack` will be called once. Full: nothing was
    /// taken; the source keeps both and may use the time, e.g. a Kafka consumer polls on with its
    /// partitions paused so the group does not expel it. Stopping: nothing taken, never will be.
    virtual Offer offer(Batch& batch, AckFn& on_ack, Duration timeout) {
        (void)timeout;  // an emitter without a bounded wait blocks
        return emit(std::move(batch), std::move(on_ack)) ? Offer::Accepted : Offer::Stopping;
    }
};

/// A cooperative stop signal. Sources poll it or wait on it instead of sleeping.
class VIGIL_API StopToken {
  public:
    virtual ~StopToken() = default;
    virtual bool stop_requested() const = 0;
    /// Waits up to `timeout`; returns true as soon as a stop is requested.
    virtual bool wait_for(Duration timeout) const = 0;
};

struct RunOptions {
    /// --once: run one round (each site checked once, or the backlog read once), then return.
    bool once = false;
};

/// A source runs on a thread of its own that the core starts. Created by the plugin factory,
/// which validates but must not connect anywhere (healthcheck() does that).
class VIGIL_API Source {
  public:
    virtual ~Source() = default;

    /// Produces batches until `stop` is requested (or after one round with `options.once`), then
    /// returns. Returning an error status before a stop was requested fails the pipeline.
    virtual Status run(Emitter& out, const StopToken& stop, const RunOptions& options) = 0;

    /// Whether run() honours RunOptions::once. The agent refuses --once otherwise.
    virtual bool supports_once() const { return false; }

    /// SIGHUP: apply a new, already validated configuration of this source (same plugin). Called
    /// from a core thread while run() is active; must be thread-safe with it. Returns false with
    /// diagnostics to keep the old configuration. The default: reload unsupported.
    virtual bool reload(const ConfigNode& /*config*/, Diagnostics& /*diags*/) { return false; }
    virtual bool supports_reload() const { return false; }

    /// Reaches the outside world to check it is usable (agent --check-config
    /// --with-environment). Never called on the data path.
    virtual Status healthcheck() { return Status::success(); }
};

}  // namespace vigil
