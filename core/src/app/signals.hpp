// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace vigil::app {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; threads created afterwards inherit
/// the mask, so only SignalThread ever receives them. Call first thing in main().
void block_signals();

/// Waits for signals on a thread of its own and calls back there (not in a signal handler), so
/// callbacks may lock and log. SIGTERM/SIGINT -> on_stop (a second one -> on_force);
/// SIGHUP -> on_reload.
class SignalThread {
  public:
    SignalThread(std::function<void()> on_stop, std::function<void()> on_force, std::function<void()> on_reload);
    ~SignalThread();
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

  private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

}  // namespace vigil::app
