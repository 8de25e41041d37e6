// SPDX-License-Identifier: Apache-2.0
// Name resolution off a check plugin's event loop: every address of a host. getaddrinfo blocks,
// so a few threads run it and post results to an eventfd the loop's epoll set watches; a loop
// that never needs a name resolved never starts one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ip_family.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

/// At most this many of a name's addresses (the first, in the resolver's order).
inline constexpr std::size_t kMaxAddresses = 16;

struct Resolution {
    std::uint64_t token = 0;
    std::vector<std::string> addresses;  // numeric, in the resolver's order, no duplicates
    std::string error;                   // why there is none ("Name or service not known")
    double ms = 0;                       // how long resolving took
};

/// Resolves `host` to every address of `family` (getaddrinfo, TCP). Blocking.
Resolution resolve_all(const std::string& host, IpFamily family);

class Resolver {
  public:
    /// `threads` resolve at once at most. Throws std::runtime_error if no eventfd can be made.
    explicit Resolver(std::size_t threads = 4);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /// Readable when results wait: watch it in epoll, then call take().
    int fd() const { return event_fd_; }
    void submit(std::uint64_t token, std::string host, IpFamily family);
    /// Finished resolutions, in no particular order; clears the eventfd.
    std::vector<Resolution> take();

  private:
    struct Request {
        std::uint64_t token;
        std::string host;
        IpFamily family;
    };
    void loop();

    int event_fd_ = -1;
    Mutex mutex_;
    std::condition_variable wake_;
    std::deque<Request> requests_ VIGIL_GUARDED_BY(mutex_);
    std::vector<Resolution> done_ VIGIL_GUARDED_BY(mutex_);
    bool stopping_ VIGIL_GUARDED_BY(mutex_) = false;
    std::vector<std::thread> threads_;
};

}  // namespace vigil::checks
