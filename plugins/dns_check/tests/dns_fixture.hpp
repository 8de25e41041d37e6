// SPDX-License-Identifier: Apache-2.0
// Real DNS servers on 127.0.0.1 for dns_check's tests: Debian's nsd serving the fixture zone
// (vigil.test: answers, NXDOMAIN, a truncated answer; broken.test: SERVFAIL; any other name:
// REFUSED), and a UDP responder of our own for what nsd never does (silence, bytes that are no
// DNS message, an answer that comes late).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "support.hpp"

namespace vigil::test {

/// nsd on a port of its own, stopped on destruction. Throws if it does not answer within 10 s.
class Nsd {
  public:
    Nsd();
    ~Nsd();
    Nsd(const Nsd&) = delete;
    Nsd& operator=(const Nsd&) = delete;
    std::uint16_t port() const { return port_; }

  private:
    TempDir dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<Child> child_;
};

/// A UDP socket on 127.0.0.1 that answers each datagram with `reply(query)`; an empty reply
/// sends nothing (a server that never answers).
class UdpResponder {
  public:
    using Reply = std::function<std::string(const std::string& query)>;
    explicit UdpResponder(Reply reply);
    ~UdpResponder();
    UdpResponder(const UdpResponder&) = delete;
    UdpResponder& operator=(const UdpResponder&) = delete;
    std::uint16_t port() const { return port_; }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// `query` sent to 127.0.0.1:`port` over UDP and its answer (empty if none within 2 s): a
/// UdpResponder that relays to nsd, later than nsd would answer.
std::string ask_udp(std::uint16_t port, const std::string& query);

/// A UDP port on 127.0.0.1 where nothing listens (the kernel answers "port unreachable").
std::uint16_t closed_udp_port();

}  // namespace vigil::test
