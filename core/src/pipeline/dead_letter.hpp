// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/log.hpp"
#include "vigil/record.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

struct DeadLetterOptions {
    std::filesystem::path file;            // empty: the log
    std::uint64_t max_size = 64ull << 20;  // rotate past this size
    unsigned keep = 3;                     // rotated files kept: file.1 (newest) .. file.<keep>
};

/// Where records a sink refused for good end up when that sink has no dead-letter target of its
/// own: a JSON-lines file (`dead_letter_file:` in the pipeline), or, without one, one error log
/// line per record carrying the full record. Counted either way; never silently dropped: a write
/// that fails returns false and the caller keeps the batch unacknowledged and tries again.
/// Thread-safe.
class DeadLetter {
  public:
    DeadLetter(std::string pipeline, DeadLetterOptions options);
    ~DeadLetter();
    DeadLetter(const DeadLetter&) = delete;
    DeadLetter& operator=(const DeadLetter&) = delete;

    struct Letter {
        const Record* record;
        std::string reason;
    };
    /// Writes one entry per letter: {"time","pipeline","sink","reason","origin","record"}, then
    /// fsyncs the file once, so the entries are durable before their batch is acknowledged.
    /// False when the file could not be written (`error` says why); nothing is counted then.
    bool write(const std::string& sink, const std::vector<Letter>& letters, std::string& error);
    /// Closes the file; the next write opens it again (SIGHUP, after an external rotation).
    void reopen();
    const std::filesystem::path& path() const { return options_.file; }

  private:
    bool rotate(std::string& error) VIGIL_REQUIRES(mutex_);

    std::string pipeline_;
    DeadLetterOptions options_;
    Mutex mutex_;
    std::FILE* file_ VIGIL_GUARDED_BY(mutex_) = nullptr;
    std::uint64_t size_ VIGIL_GUARDED_BY(mutex_) = 0;
    Logger log_;
};

}  // namespace vigil::pipeline
