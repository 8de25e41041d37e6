// SPDX-License-Identifier: Apache-2.0
// A pipeline's `buffer:` block: where batches wait between the source and the sinks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace vigil::pipeline {

struct BufferOptions {
    enum class Type { Memory, Disk };
    enum class WhenFull { Block, DropOldest };

    /// Memory: the source is acknowledged when every sink has accepted a batch, and blocks while
    /// max_in_flight batches wait (today's behaviour). Disk: acknowledged once the batch is
    /// stored (fsynced); the sinks read the store at their own pace.
    Type type = Type::Memory;
    std::filesystem::path path;
    std::uint64_t max_size = std::uint64_t{1} << 30;
    WhenFull when_full = WhenFull::Block;
};

constexpr std::string_view to_string(BufferOptions::Type t) {
    return t == BufferOptions::Type::Disk ? "disk" : "memory";
}
constexpr std::string_view to_string(BufferOptions::WhenFull w) {
    return w == BufferOptions::WhenFull::DropOldest ? "drop_oldest" : "block";
}

/// The smallest max_size accepted: a few batches of large records, so that a full buffer can
/// still take a batch while the sinks hold theirs.
inline constexpr std::uint64_t kMinBufferSize = std::uint64_t{4} << 20;

}  // namespace vigil::pipeline
