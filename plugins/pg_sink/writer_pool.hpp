// SPDX-License-Identifier: Apache-2.0
// The threads a pg_sink write spreads its chunks over, started once with the sink rather than
// per write, and exception-safe: what a chunk throws comes back to write() (and so to the sink
// runner, which retries the batch) instead of ending the process from a thread of its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_sink {

class WriterPool {
  public:
    /// `helpers`: threads beside the caller's (connections - 1).
    explicit WriterPool(std::size_t helpers);
    ~WriterPool();
    WriterPool(const WriterPool&) = delete;
    WriterPool& operator=(const WriterPool&) = delete;

    /// Runs task(0) on the calling thread and task(1) .. task(n - 1) on the helpers (n <= helpers
    /// + 1), and returns once every one has. If any threw, the first of them (by index) is
    /// rethrown here, after all have finished.
    void run(std::size_t n, const std::function<void(std::size_t)>& task);

  private:
    void helper(std::size_t index);

    Mutex mutex_;
    std::condition_variable wake_, finished_;
    const std::function<void(std::size_t)>* task_ VIGIL_GUARDED_BY(mutex_) = nullptr;  // the round's
    std::size_t n_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::uint64_t round_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::size_t done_ VIGIL_GUARDED_BY(mutex_) = 0;  // helpers done this round
    bool stopping_ VIGIL_GUARDED_BY(mutex_) = false;
    std::vector<std::exception_ptr> errors_;  // one per index; each written by its thread
    std::vector<std::thread> threads_;
};

}  // namespace vigil::plugins::pg_sink
