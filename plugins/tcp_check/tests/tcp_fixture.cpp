// SPDX-License-Identifier: Apache-2.0
#include "tcp_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace vigil::test {

namespace {
int listen_on_loopback(std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}
}  // namespace

TcpFixture::TcpFixture(std::function<void(int, TcpFixture&)> handle) : handle_(std::move(handle)) {
    listen_fd_ = listen_on_loopback(port_);
    thread_ = std::thread([this] { loop(); });
}

TcpFixture::~TcpFixture() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    std::lock_guard lock(kept_mutex_);
    for (int fd : kept_) {
        ::close(fd);
    }
}

void TcpFixture::keep(int fd) {
    std::lock_guard lock(kept_mutex_);
    kept_.push_back(fd);
}

void TcpFixture::loop() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
            continue;
        }
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ++accepted_;
        handle_(fd, *this);
    }
}

std::function<void(int, TcpFixture&)> TcpFixture::greet_and_close(std::string text) {
    return [text](int fd, TcpFixture&) {
        [[maybe_unused]] auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        ::close(fd);
    };
}

std::function<void(int, TcpFixture&)> TcpFixture::answer(std::string request, std::string reply) {
    return [request, reply](int fd, TcpFixture&) {
        std::string got;
        char buf[256];
        while (got.find(request) == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) {
                break;
            }
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            got.append(buf, static_cast<std::size_t>(n));
        }
        if (got.find(request) != std::string::npos) {
            [[maybe_unused]] auto n = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
        ::close(fd);
    };
}

std::function<void(int, TcpFixture&)> TcpFixture::silent() {
    return [](int fd, TcpFixture& self) { self.keep(fd); };
}

std::function<void(int, TcpFixture&)> TcpFixture::reset() {
    return [](int fd, TcpFixture&) {
        linger l{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
    };
}

std::uint16_t closed_port() {
    std::uint16_t port = 0;
    ::close(listen_on_loopback(port));
    return port;
}

}  // namespace vigil::test
