// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "vigil/log.hpp"
#include "vigil/record.hpp"

namespace vigil::pipeline {

/// Where records a sink refused for good end up when that sink has no dead-letter target of its
/// own: a JSON-lines file (`dead_letter_file:` in the pipeline), or, without one, one error log
/// line per record carrying the full record. Counted either way; never silently dropped.
/// Thread-safe.
class DeadLetter {
  public:
    DeadLetter(std::string pipeline, std::filesystem::path file);
    ~DeadLetter();
    DeadLetter(const DeadLetter&) = delete;
    DeadLetter& operator=(const DeadLetter&) = delete;

    /// Writes one entry: {"time","pipeline","sink","reason","origin","record"}; fsyncs the file so
    /// an entry is durable before the batch it came from is acknowledged.
    void write(const std::string& sink, const Record& record, const std::string& reason);

  private:
    std::string pipeline_;
    std::filesystem::path path_;
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
    Logger log_;
};

}  // namespace vigil::pipeline
