// SPDX-License-Identifier: Apache-2.0
#include "address_resolver.hpp"
#include "vigil/sync.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

namespace vigil::checks {

Resolution resolve_all(const std::string& host, IpFamily family) {
    Resolution r;
    auto start = std::chrono::steady_clock::now();
    addrinfo hints{};
    hints.ai_family = family == IpFamily::V4 ? AF_INET : family == IpFamily::V6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // A URL's IPv6 literal comes bracketed; getaddrinfo wants it bare.
    std::string name =
        host.size() > 2 && host.front() == '[' && host.back() == ']' ? host.substr(1, host.size() - 2) : host;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (rc != 0) {
        r.error = fmt::format("Could not resolve host: {} ({})", name,
                              rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc));
        return r;
    }
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* where = a->ai_family == AF_INET
                                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
            inet_ntop(a->ai_family, where, text, sizeof text) != nullptr &&
            std::find(r.addresses.begin(), r.addresses.end(), text) == r.addresses.end()) {
            r.addresses.emplace_back(text);
        }
    }
    freeaddrinfo(found);
    if (r.addresses.empty()) {
        r.error = fmt::format("Could not resolve host: {} (no {} address)", name,
                              family == IpFamily::V4   ? "IPv4"
                              : family == IpFamily::V6 ? "IPv6"
                                                       : "IP");
    }
    return r;
}

Resolver::Resolver(std::size_t threads) {
    event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) {
        throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
    }
    for (std::size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { loop(); });
    }
}

Resolver::~Resolver() {
    stop_and_join(mutex_, &stopping_, wake_, threads_);
    ::close(event_fd_);
}

void Resolver::submit(std::uint64_t token, std::string host, IpFamily family) {
    {
        Lock lock(mutex_);
        requests_.push_back(Request{token, std::move(host), family});
    }
    wake_.notify_one();
}

std::vector<Resolution> Resolver::take() {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(event_fd_, &count, sizeof count);
    Lock lock(mutex_);
    std::vector<Resolution> out;
    out.swap(done_);
    return out;
}

void Resolver::loop() {
    for (;;) {
        Request req;
        {
            Lock lock(mutex_);
            wake_.wait(lock.native(), [&]() VIGIL_REQUIRES(mutex_) { return stopping_ || !requests_.empty(); });
            if (stopping_) {
                return;
            }
            req = std::move(requests_.front());
            requests_.pop_front();
        }
        auto r = resolve_all(req.host, req.family);
        r.token = req.token;
        {
            Lock lock(mutex_);
            done_.push_back(std::move(r));
        }
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(event_fd_, &one, sizeof one);
    }
}

}  // namespace vigil::checks
