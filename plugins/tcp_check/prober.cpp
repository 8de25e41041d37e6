// SPDX-License-Identifier: Apache-2.0
#include "prober.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "host_port.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::tcp_check {

namespace {
constexpr std::size_t kShownBytes = 64;  // of what was read, in an expect failure's detail

}  // namespace

std::string_view to_string(Failure f) {
    switch (f) {
        case Failure::None: return "ok";
        case Failure::Dns: return "dns";
        case Failure::Connect: return "connect";
        case Failure::Timeout: return "timeout";
        case Failure::Expect: return "expect";
    }
    return "error";
}

std::optional<std::pair<Failure, std::string>> judge_read(const Site& site, std::string_view read, bool closed) {
    if (re2::RE2::PartialMatch(read, *site.expect)) {
        return std::pair{Failure::None, std::string()};
    }
    auto shown = [&] { return escape_controls(read.substr(0, kShownBytes)); };
    if (read.size() >= site.max_read) {
        return std::pair{Failure::Expect, fmt::format("no match for {} in the first {} bytes read: \"{}\"",
                                                      *site.expect_text, read.size(), shown())};
    }
    if (closed) {
        return std::pair{Failure::Expect,
                         read.empty() ? fmt::format("the server closed the connection without sending anything "
                                                    "(expected {})",
                                                    *site.expect_text)
                                      : fmt::format("the server closed the connection after {} bytes with no match "
                                                    "for {}: \"{}\"",
                                                    read.size(), *site.expect_text, shown())};
    }
    return std::nullopt;
}

// One check of one site, from its start to its record.
struct Prober::Check {
    enum class State { Resolving, Connecting, Sending, Reading };
    std::shared_ptr<const Site> site;
    State state = State::Resolving;
    int fd = -1;
    checks::Attempt attempt;
    Clock::time_point start{};  // of this attempt
    std::optional<double> dns_ms;
    std::optional<double> connect_ms;
    std::string address;  // numeric, once known
    std::size_t sent = 0;
    std::string read;
    std::multimap<Clock::time_point, Check*>::iterator deadline;
    std::uint64_t token = 0;  // while resolving
};

Prober::Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once)
    : ProbeLoop("tcp",
                {to_string(Failure::None), to_string(Failure::Dns), to_string(Failure::Connect),
                 to_string(Failure::Timeout), to_string(Failure::Expect)},
                std::move(id), std::move(log), outbox, stop, once),
      duration_(histogram(metric("duration_seconds"), labels_, latency_buckets(), "Check durations (response_time)")) {}

Prober::~Prober() {
    for (auto& [raw, c] : active_) {
        if (c->fd >= 0) {
            ::close(c->fd);
        }
    }
}

void Prober::on_event(const epoll_event& event) {
    if (event.data.ptr == nullptr) {
        lookups_.take_first([this](Check& c, const std::string& address) { connect(c, address); },
                            [this](Check& c, const std::string& why) { finish(c, Failure::Dns, why); });
        return;
    }
    auto* c = static_cast<Check*>(event.data.ptr);
    if (active_.count(c) == 0) {
        return;  // finished earlier in this round: its fd is closed
    }
    if (c->state == Check::State::Reading && (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        on_readable(*c);
    } else if ((event.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
        on_writable(*c);
    }
}

std::optional<Prober::Clock::time_point> Prober::next_deadline() const {
    return deadlines_.empty() ? std::nullopt : std::optional(deadlines_.begin()->first);
}

void Prober::start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) {
    if (!begin_attempt(*site, attempt)) {
        return;
    }
    auto owned = std::make_unique<Check>();
    Check& c = *owned;
    c.site = site;
    c.attempt = attempt;
    c.start = Clock::now();
    c.deadline = deadlines_.emplace(c.start + site->timeout, &c);
    active_.emplace(&c, std::move(owned));
    count_in_flight();
    if (checks::is_address(site->target.host)) {
        connect(c, site->target.host);
        return;
    }
    c.state = Check::State::Resolving;
    std::string why;
    if (!lookups_.submit(epoll_, epoll_data_t{.ptr = nullptr}, c, site->target.host, site->ip_family, why)) {
        finish(c, Failure::Dns, why);
    }
}

void Prober::connect(Check& c, const std::string& address) {
    c.address = address;
    sockaddr_storage sa{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        if (c.site->ip_family == IpFamily::V6) {
            finish(c, Failure::Dns, fmt::format("{} is an IPv4 address and ip_family is ipv6", address));
            return;
        }
        v4->sin_family = AF_INET;
        v4->sin_port = htons(c.site->target.port);
        len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        if (c.site->ip_family == IpFamily::V4) {
            finish(c, Failure::Dns, fmt::format("{} is an IPv6 address and ip_family is ipv4", address));
            return;
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(c.site->target.port);
        len = sizeof(sockaddr_in6);
    } else {
        finish(c, Failure::Dns, fmt::format("\"{}\" is not an address", address));
        return;
    }
    c.fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        finish(c, Failure::Connect, fmt::format("socket: {}", std::strerror(errno)));
        return;
    }
    c.state = Check::State::Connecting;
    int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), len);
    if (rc != 0 && errno != EINPROGRESS) {
        finish(c, Failure::Connect, std::strerror(errno));
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        finish(c, Failure::Connect, fmt::format("cannot watch the socket: {}", std::strerror(errno)));
    }
}

void Prober::on_writable(Check& c) {
    if (c.state == Check::State::Connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err != 0) {
            finish(c, Failure::Connect, std::strerror(err));
            return;
        }
        c.connect_ms = checks::ms_between(c.start, Clock::now()) - c.dns_ms.value_or(0);
        c.state = c.site->send ? Check::State::Sending : Check::State::Reading;
        if (!c.site->send) {
            after_connect_or_send(c);
            return;
        }
    }
    if (c.state == Check::State::Sending) {
        const std::string& data = *c.site->send;
        while (c.sent < data.size()) {
            auto n = ::send(c.fd, data.data() + c.sent, data.size() - c.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return;  // the socket is still watched for EPOLLOUT
                }
                finish(c, Failure::Connect, fmt::format("send: {}", std::strerror(errno)));
                return;
            }
            c.sent += static_cast<std::size_t>(n);
        }
        after_connect_or_send(c);
    }
}

// Connected, and `send` written: done, or now read until `expect` matches.
void Prober::after_connect_or_send(Check& c) {
    if (!c.site->expect) {
        finish(c, Failure::None, "");
        return;
    }
    c.state = Check::State::Reading;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        finish(c, Failure::Connect, fmt::format("cannot watch the socket: {}", std::strerror(errno)));
    }
}

void Prober::on_readable(Check& c) {
    char buf[4096];
    for (;;) {
        std::size_t room = static_cast<std::size_t>(c.site->max_read) - c.read.size();
        auto n = ::recv(c.fd, buf, std::min(room, sizeof buf), 0);
        if (n >= 0) {
            c.read.append(buf, static_cast<std::size_t>(n));
            if (auto verdict = judge_read(*c.site, c.read, n == 0)) {
                finish(c, verdict->first, std::move(verdict->second));
                return;
            }
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        finish(c, Failure::Connect, fmt::format("recv: {}", std::strerror(errno)));
        return;
    }
}

void Prober::after_events() {
    auto steady = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= steady) {
        Check& c = *deadlines_.begin()->second;
        const char* phase = c.state == Check::State::Resolving    ? "resolving the host"
                            : c.state == Check::State::Connecting ? "connecting"
                            : c.state == Check::State::Sending    ? "sending"
                                                                  : "waiting for the expected answer";
        finish(c, Failure::Timeout,
               c.state == Check::State::Reading && !c.read.empty()
                   ? fmt::format("no match for {} within {}; {} bytes read: \"{}\"", *c.site->expect_text,
                                 format_duration(c.site->timeout), c.read.size(),
                                 escape_controls(c.read.substr(0, kShownBytes)))
                   : fmt::format("{} took longer than {}", phase, format_duration(c.site->timeout)));
    }
}

void Prober::finish(Check& c, Failure failure, std::string detail) {
    const Site& site = *c.site;
    auto end = Clock::now();
    if (retry(c.site, c.attempt, failure != Failure::None)) {
        end_attempt(c);
        return;
    }
    auto r = record_of(site, c.attempt, checks::ms_between(c.start, end));
    r.regex = site.expect_text;
    if (site.expect && (failure == Failure::None || failure == Failure::Expect)) {
        r.regex_check = failure == Failure::None;
    }
    r.ok = failure == Failure::None;
    if (failure != Failure::None) {
        r.error = std::string(to_string(failure));
        r.error_detail = std::move(detail);
    }
    r.dns_ms = c.dns_ms;
    r.connect_ms = c.connect_ms;
    if (!c.address.empty()) {
        r.remote_ip = c.address;
    }
    if (site.expect) {
        r.body_bytes = static_cast<std::int64_t>(c.read.size());
    }
    duration_.observe(r.response_time / 1000.0);
    emit(std::move(r), site, static_cast<std::size_t>(failure));
    end_attempt(c);
}

void Prober::end_attempt(Check& c) {
    if (c.fd >= 0) {
        ::close(c.fd);  // leaves the epoll set with it
    }
    lookups_.cancel(c);
    deadlines_.erase(c.deadline);
    active_.erase(&c);
    count_in_flight();
}

}  // namespace vigil::plugins::tcp_check
