// SPDX-License-Identifier: Apache-2.0
// Real TCP servers on 127.0.0.1 for tcp_check's tests, each on a port of its own: one thread
// accepts and hands every connection to a handler, which answers as a server of that kind would
// (a greeting, an echo, silence, a reset).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::test {

class TcpFixture {
  public:
    /// `handle` runs on the fixture's thread with each accepted socket; it closes the socket or
    /// hands it to keep() (held open until the fixture goes).
    explicit TcpFixture(std::function<void(int fd, TcpFixture&)> handle);
    ~TcpFixture();
    TcpFixture(const TcpFixture&) = delete;
    TcpFixture& operator=(const TcpFixture&) = delete;

    std::uint16_t port() const { return port_; }
    std::size_t accepted() const { return accepted_.load(); }
    void keep(int fd);

    /// Writes `text`, then closes: a server that greets and hangs up (SMTP's 554, a banner).
    static std::function<void(int, TcpFixture&)> greet_and_close(std::string text);
    /// Reads until `request` arrived, answers `reply`, closes.
    static std::function<void(int, TcpFixture&)> answer(std::string request, std::string reply);
    /// Accepts and says nothing, ever.
    static std::function<void(int, TcpFixture&)> silent();
    /// Accepts and resets the connection at once (SO_LINGER 0).
    static std::function<void(int, TcpFixture&)> reset();

  private:
    void loop();

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::function<void(int, TcpFixture&)> handle_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> accepted_{0};
    std::mutex kept_mutex_;
    std::vector<int> kept_;
    std::thread thread_;
};

/// A port on 127.0.0.1 that nothing listens on (bound once, then closed).
std::uint16_t closed_port();

}  // namespace vigil::test
