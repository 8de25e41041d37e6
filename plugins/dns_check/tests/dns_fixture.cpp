// SPDX-License-Identifier: Apache-2.0
#include "dns_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

#include <fmt/core.h>

namespace vigil::test {

namespace {
int bound_socket(int type, std::uint16_t port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        return -1;
    }
    return fd;
}

std::uint16_t port_of(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// A port free for both UDP and TCP on 127.0.0.1 (nsd serves both on one).
std::uint16_t free_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        int tcp = bound_socket(SOCK_STREAM, 0);
        if (tcp < 0) {
            continue;
        }
        auto port = port_of(tcp);
        int udp = bound_socket(SOCK_DGRAM, port);
        ::close(tcp);
        if (udp >= 0) {
            ::close(udp);
            return port;
        }
    }
    throw std::runtime_error("no port free for both UDP and TCP on 127.0.0.1");
}

// Whether something answers a DNS query for vigil.test SOA on `port` within 200 ms.
bool answers(std::uint16_t port) {
    // A fixed query: id 0x1234, RD, one question vigil.test SOA IN.
    static const unsigned char kQuery[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                           0x00, 0x00, 0x05, 'v',  'i',  'g',  'i',  'l',  0x04, 't',
                                           'e',  's',  't',  0x00, 0x00, 0x06, 0x00, 0x01};
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd, kQuery, sizeof kQuery, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    pollfd p{fd, POLLIN, 0};
    bool ok = ::poll(&p, 1, 200) == 1 && (p.revents & POLLIN) != 0;
    char buf[512];
    ok = ok && ::recv(fd, buf, sizeof buf, 0) > 12;
    ::close(fd);
    return ok;
}
}  // namespace

Nsd::Nsd() : port_(free_port()) {
    auto zone = source_dir() / "plugins/dns_check/tests/vigil.test.zone";
    auto dir = dir_.path().string();
    auto conf = dir_.write("nsd.conf",
                           fmt::format(R"(server:
  ip-address: 127.0.0.1
  port: {port}
  username: ""
  chroot: ""
  zonesdir: "{dir}"
  pidfile: "{dir}/nsd.pid"
  zonelistfile: "{dir}/zone.list"
  xfrdfile: "{dir}/xfrd.state"
  xfrdir: "{dir}"
  logfile: "{dir}/nsd.log"
  server-count: 1
  verbosity: 1
  # Response rate limiting off: it would drop a test's (and a benchmark's) burst from one address.
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: vigil.test
  zonefile: "{zone}"
# Configured but never loaded (no such file): nsd answers SERVFAIL for it.
zone:
  name: broken.test
  zonefile: "{dir}/absent.zone"
)",
                                       fmt::arg("port", port_), fmt::arg("dir", dir), fmt::arg("zone", zone.string())));
    child_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/nsd", "-d", "-c", conf.string()});
    if (!wait_until([&] { return answers(port_); }, std::chrono::seconds(10))) {
        throw std::runtime_error(fmt::format("nsd did not answer on 127.0.0.1:{} within 10 s: {}{}", port_,
                                             child_->err(), read_file(dir_ / "nsd.log")));
    }
}

Nsd::~Nsd() {
    // SIGTERM, not the Child's SIGKILL: nsd's server processes end with it.
    child_->signal(SIGTERM);
    child_->wait(std::chrono::seconds(10));
}

UdpResponder::UdpResponder(Reply reply) {
    fd_ = bound_socket(SOCK_DGRAM, 0);
    if (fd_ < 0) {
        throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
    }
    port_ = port_of(fd_);
    thread_ = std::thread([this, reply = std::move(reply)] {
        char buf[4096];
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            sockaddr_in from{};
            socklen_t len = sizeof from;
            auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n <= 0) {
                continue;
            }
            auto out = reply(std::string(buf, static_cast<std::size_t>(n)));
            if (!out.empty()) {
                ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
            }
        }
    });
}

UdpResponder::~UdpResponder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

std::string ask_udp(std::uint16_t port, const std::string& query) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
        static_cast<ssize_t>(query.size())) {
        pollfd p{fd, POLLIN, 0};
        char buf[4096];
        if (::poll(&p, 1, 2000) == 1) {
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                out.assign(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    return out;
}

std::uint16_t closed_udp_port() {
    int fd = bound_socket(SOCK_DGRAM, 0);
    auto port = port_of(fd);
    ::close(fd);
    return port;
}

}  // namespace vigil::test
