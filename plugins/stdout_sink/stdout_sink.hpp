// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdio>
#include <string>

#include "stdout_sink_config.hpp"
#include "vigil/log.hpp"
#include "vigil/sink.hpp"

namespace vigil::plugins::stdout_sink {

/// Appends each record as one JSON line. A batch is written with one write and flushed (and
/// fsynced if asked) before write() returns, so an acknowledged batch is in the file.
class StdoutSink final : public Sink {
  public:
    StdoutSink(Config config, Logger log);
    ~StdoutSink() override;

    Status start() override;
    WriteResult write(const Batch& batch) override;
    void stop() override;
    Status healthcheck() override;

    /// The exact bytes a batch becomes: one compact JSON object per record, each ending in '\n'.
    static std::string format_batch(const Batch& batch);

  private:
    std::string where() const;
    Config config_;
    Logger log_;
    std::FILE* out_ = nullptr;
    bool owns_ = false;
};

}  // namespace vigil::plugins::stdout_sink
