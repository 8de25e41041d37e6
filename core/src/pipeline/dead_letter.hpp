// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

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

    struct Letter {
        const Record* record;
        std::string reason;
    };
    /// Writes one entry per letter: {"time","pipeline","sink","reason","origin","record"}, then
    /// fsyncs the file once, so the entries are durable before their batch is acknowledged.
    void write(const std::string& sink, const std::vector<Letter>& letters);

  private:
    std::string pipeline_;
    std::filesystem::path path_;
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
    Logger log_;
};

}  // namespace vigil::pipeline
