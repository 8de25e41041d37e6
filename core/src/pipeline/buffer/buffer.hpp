// SPDX-License-Identifier: Apache-2.0
// What stands between a pipeline's source and its sinks: in memory (a batch goes to every sink
// and is acknowledged to the source when every sink has it) or on disk (acknowledged once
// stored; each sink reads the store at its own pace). The pipeline talks to this interface
// only, so it has one code path for both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "vigil/batch.hpp"
#include "vigil/status.hpp"

namespace vigil::pipeline::buffer {

class Buffer {
  public:
    using Deadline = std::chrono::steady_clock::time_point;

    virtual ~Buffer() = default;

    /// How many resolutions a batch needs before its source is acknowledged: one per sink in
    /// memory (0 without sinks: at once), one for a disk buffer (stored).
    virtual std::size_t resolutions_per_batch() const = 0;

    /// Before the first append: the store is opened (one line naming its path on failure).
    virtual Status open() = 0;
    virtual void start() = 0;

    /// Takes an accepted batch. Called under the pipeline's lock, in sequence order; must not
    /// block. Each resolution comes back through the pipeline's on_sink_done(sequence, ok).
    virtual void append(Batch batch) = 0;
    /// Sink `sink` resolved the batch `sequence` (delivered, or given up at shutdown).
    virtual void done(std::size_t sink, std::uint64_t sequence, bool delivered) = 0;

    /// What drain() could not finish by its deadline (the pipeline says so, naming its timeout).
    struct Drained {
        std::optional<std::uint64_t> records_left;  // `once`: records not handed on, if any
        bool sinks_idle = true;                     // false: sinks were still writing
    };
    /// After the source stopped and every accepted batch resolved: for `once`, hands on what is
    /// stored; stops handing the sinks more, calls `give_up_on_down_sinks` so that a sink that
    /// is down is not waited for, and waits for the others, up to `deadline`.
    virtual Drained drain(Deadline deadline, bool once, const std::function<void()>& give_up_on_down_sinks) = 0;
    virtual void close() = 0;

    /// Records still held for a sink after close() (0 in memory), and dropped when full.
    virtual std::uint64_t records() const = 0;
    virtual std::uint64_t dropped() const = 0;
    /// The pipeline's last log line: what it delivered (memory) or stored (disk).
    virtual std::string stopped_summary(std::uint64_t batches, std::uint64_t records) const = 0;
};

}  // namespace vigil::pipeline::buffer
