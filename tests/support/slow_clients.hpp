// SPDX-License-Identifier: Apache-2.0
// Slowloris for the tests of Vigil's own servers: connections opened from another loopback
// address, each sending the start of a request and never its end.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace vigil::test {

class SlowClients {
  public:
    /// Opens `n` connections from `from` (e.g. "127.0.0.2") to 127.0.0.1:`port`, each sending
    /// "GET / HTTP/1.1" and one header line. Connections the server refuses count as opened too.
    SlowClients(int port, int n, const std::string& from = "127.0.0.2");
    ~SlowClients();
    SlowClients(const SlowClients&) = delete;
    SlowClients& operator=(const SlowClients&) = delete;
    /// One more header line on every connection still open; how many took it.
    int trickle();
    /// How many connections the server has not closed.
    int open() const;

  private:
    std::vector<int> fds_;
};

/// GET http://127.0.0.1:port/path from 127.0.0.1: the status (0 when it failed) and how long it took.
std::pair<long, std::chrono::milliseconds> timed_get(int port, const std::string& path);

}  // namespace vigil::test
