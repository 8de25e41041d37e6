// SPDX-License-Identifier: Apache-2.0
#include "slow_clients.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "support.hpp"

namespace vigil::test {

SlowClients::SlowClients(int port, int n, const std::string& from) {
    for (int i = 0; i < n; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            break;
        }
        sockaddr_in local{};
        local.sin_family = AF_INET;
        ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
        sockaddr_in remote{};
        remote.sin_family = AF_INET;
        remote.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
            ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
            ::close(fd);
            continue;
        }
        const char start[] = "GET / HTTP/1.1\r\nHost: slow\r\n";
        (void)::send(fd, start, sizeof start - 1, MSG_NOSIGNAL);
        fds_.push_back(fd);
    }
}

SlowClients::~SlowClients() {
    for (int fd : fds_) {
        ::close(fd);
    }
}

int SlowClients::trickle() {
    int took = 0;
    const char line[] = "X-Slow: 1\r\n";
    for (int fd : fds_) {
        took += ::send(fd, line, sizeof line - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0 ? 1 : 0;
    }
    return took;
}

int SlowClients::open() const {
    int n = 0;
    for (int fd : fds_) {
        pollfd p{fd, POLLIN, 0};
        char c = 0;
        // Closed by the server: readable with end of file (or reset).
        bool closed = ::poll(&p, 1, 0) > 0 && ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
        n += closed ? 0 : 1;
    }
    return n;
}

std::pair<long, std::chrono::milliseconds> timed_get(int port, const std::string& path) {
    auto start = std::chrono::steady_clock::now();
    auto r = run({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-m", "5", "-w", "%{http_code}",
                  "http://127.0.0.1:" + std::to_string(port) + path});
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return {r.code == 0 ? std::stol(r.out) : 0, took};
}

}  // namespace vigil::test
