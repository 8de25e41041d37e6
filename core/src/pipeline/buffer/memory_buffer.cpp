// SPDX-License-Identifier: Apache-2.0
#include "pipeline/buffer/memory_buffer.hpp"

#include <fmt/core.h>

namespace vigil::pipeline::buffer {

void MemoryBuffer::append(Batch batch) {
    // One copy shared by every sink; called under the pipeline's lock, so every sink sees the
    // batches in sequence order.
    auto shared = std::make_shared<const Batch>(std::move(batch));
    for (const auto& r : runners_) {
        r->enqueue(shared);
    }
}

std::string MemoryBuffer::stopped_summary(std::uint64_t batches, std::uint64_t records) const {
    return fmt::format("stopped: {} batches ({} records) delivered", batches, records);
}

}  // namespace vigil::pipeline::buffer
