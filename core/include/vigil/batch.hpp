// SPDX-License-Identifier: Apache-2.0
// Batches and their acknowledgement: the unit of delivery between a source and its sinks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vigil/record.hpp"

namespace vigil {

/// A group of records emitted together. The core assigns `sequence` (1, 2, 3... per pipeline);
/// sinks see batches in that order.
struct Batch {
    std::uint64_t sequence = 0;
    std::vector<Record> records;
};

/// The final state of an emitted batch, reported to its source exactly once.
enum class AckStatus {
    /// Every sink durably accepted every record (or dead-lettered the ones it refused, which is
    /// also final). A source may now commit its position past the batch.
    Delivered,
    /// The pipeline stopped before every sink accepted the batch (drain deadline passed). The
    /// source must not commit past it: it will be read again on restart.
    Undelivered,
};

/// Called by the core exactly once per accepted batch, in emission order, from a core thread
/// (never the source's own thread). Must not block for long and must not throw.
using AckFn = std::function<void(AckStatus)>;

}  // namespace vigil
