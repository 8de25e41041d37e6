// SPDX-License-Identifier: Apache-2.0
#include "app/signals.hpp"

#include <csignal>
#include <ctime>

namespace vigil::app {

namespace {
sigset_t handled() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}
}  // namespace

void block_signals() {
    sigset_t set = handled();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalThread::SignalThread(std::function<void()> on_stop, std::function<void()> on_force,
                           std::function<void()> on_reload) {
    thread_ = std::thread(
        [this, on_stop = std::move(on_stop), on_force = std::move(on_force), on_reload = std::move(on_reload)] {
            sigset_t set = handled();
            bool stopping = false;
            // A timed wait so the thread notices done_ without needing a signal of its own.
            const timespec tick{0, 100'000'000};
            while (!done_.load()) {
                int sig = sigtimedwait(&set, nullptr, &tick);
                if (sig == SIGHUP) {
                    on_reload();
                } else if (sig == SIGINT || sig == SIGTERM) {
                    if (stopping) {
                        on_force();
                    } else {
                        stopping = true;
                        on_stop();
                    }
                }
            }
        });
}

SignalThread::~SignalThread() {
    done_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace vigil::app
