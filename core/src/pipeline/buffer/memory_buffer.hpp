// SPDX-License-Identifier: Apache-2.0
// `buffer: {type: memory}` (the default): a batch is shared by every sink's runner and resolved
// when each has resolved it. Holds nothing itself: max_in_flight bounds what is in memory.
#pragma once

#include <memory>
#include <vector>

#include "pipeline/buffer/buffer.hpp"
#include "pipeline/sink_runner.hpp"

namespace vigil::pipeline::buffer {

class MemoryBuffer final : public Buffer {
  public:
    using Resolved = std::function<void(std::uint64_t sequence, bool delivered)>;
    /// `runners`: the pipeline's, which outlive the buffer's use; `resolved`: its on_sink_done.
    MemoryBuffer(const std::vector<std::unique_ptr<SinkRunner>>& runners, Resolved resolved)
        : runners_(runners), resolved_(std::move(resolved)) {}

    std::size_t resolutions_per_batch() const override { return runners_.size(); }
    Status open() override { return Status::success(); }
    void start() override {}
    void append(Batch batch) override;
    void done(std::size_t, std::uint64_t sequence, bool delivered) override { resolved_(sequence, delivered); }
    Drained drain(Deadline, bool, const std::function<void()>&) override { return {}; }
    void close() override {}
    std::uint64_t records() const override { return 0; }
    std::uint64_t dropped() const override { return 0; }
    std::string stopped_summary(std::uint64_t batches, std::uint64_t records) const override;

  private:
    const std::vector<std::unique_ptr<SinkRunner>>& runners_;
    Resolved resolved_;
};

}  // namespace vigil::pipeline::buffer
