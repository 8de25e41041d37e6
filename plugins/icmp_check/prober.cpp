// SPDX-License-Identifier: Apache-2.0
#include "prober.hpp"

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "host_port.hpp"
#include "packet.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::icmp_check {

namespace {
constexpr int kReceiveBuffer = 4 << 20;  // a burst of replies from thousands of hosts
// epoll's data for the two sockets and the resolver's eventfd.
constexpr std::uint64_t kV4 = 1, kV6 = 2, kResolver = 3;

std::uint32_t key(bool v6, std::uint16_t seq) { return (v6 ? 0x10000U : 0U) | seq; }

// Only what icmp_check reads reaches a raw socket: echo replies and the errors about requests.
void filter(int fd, bool v6) {
    if (v6) {
        icmp6_filter f{};
        ICMP6_FILTER_SETBLOCKALL(&f);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
        ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
        ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
        setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    } else {
        icmp_filter f{};
        f.data = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED));
        setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f);
    }
}
}  // namespace

std::string_view to_string(Failure f) {
    switch (f) {
        case Failure::None: return "ok";
        case Failure::Dns: return "dns";
        case Failure::Send: return "send";
        case Failure::Unreachable: return "unreachable";
        case Failure::Timeout: return "timeout";
        case Failure::Loss: return "loss";
        case Failure::Rtt: return "rtt";
    }
    return "error";
}

RttStats rtt_stats(const std::vector<double>& rtts) {
    RttStats s;
    if (rtts.empty()) {
        return s;
    }
    s.min = *std::min_element(rtts.begin(), rtts.end());
    s.max = *std::max_element(rtts.begin(), rtts.end());
    double sum = 0;
    for (double r : rtts) {
        sum += r;
    }
    s.avg = sum / static_cast<double>(rtts.size());
    double var = 0;
    for (double r : rtts) {
        var += (r - s.avg) * (r - s.avg);
    }
    s.stddev = std::sqrt(var / static_cast<double>(rtts.size()));  // as ping's mdev: of the population
    return s;
}

std::pair<Failure, std::string> judge(const Site& site, const Tally& t) {
    if (t.received == 0) {
        if (!t.unreachable.empty()) {
            return {Failure::Unreachable, t.unreachable};
        }
        if (!t.send_error.empty()) {
            return {Failure::Send, t.send_error};
        }
        return {Failure::Timeout,
                fmt::format("no reply to {} echo requests within {} each", t.sent, format_duration(site.timeout))};
    }
    double loss = 100.0 * static_cast<double>(t.sent - t.received) / static_cast<double>(t.sent);
    if (site.max_loss && loss > *site.max_loss) {
        return {Failure::Loss, fmt::format("{} of {} echo requests unanswered ({:.1f}% loss, max_loss {}%)",
                                           t.sent - t.received, t.sent, loss, *site.max_loss)};
    }
    auto avg = rtt_stats(t.rtts).avg;
    if (site.max_rtt && avg > std::chrono::duration<double, std::milli>(*site.max_rtt).count()) {
        return {Failure::Rtt,
                fmt::format("mean round-trip time {:.3f} ms is above max_rtt {}", avg, format_duration(*site.max_rtt))};
    }
    return {Failure::None, ""};
}

// One check of one site, from its start to its record.
struct Prober::Check {
    std::shared_ptr<const Site> site;
    bool resolving = false;
    bool v6 = false;
    sockaddr_storage to{};
    socklen_t to_len = 0;
    checks::Attempt attempt;
    Clock::time_point start{};  // of this attempt
    std::optional<double> dns_ms;
    std::string address;  // numeric, once known
    Tally tally;
    std::vector<std::uint32_t> keys;  // its requests in pending_
    std::multimap<Clock::time_point, Check*>::iterator timer;
    std::uint64_t token = 0;  // while resolving
};

Prober::Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once)
    : ProbeLoop(
          "icmp",
          {to_string(Failure::None), to_string(Failure::Dns), to_string(Failure::Send), to_string(Failure::Unreachable),
           to_string(Failure::Timeout), to_string(Failure::Loss), to_string(Failure::Rtt)},
          std::move(id), std::move(log), outbox, stop, once),
      replies_(counter(metric("replies_total"), labels_, "Echo replies received in time")),
      requests_(counter(metric("requests_total"), labels_, "Echo requests sent")),
      rtt_(histogram(metric("rtt_seconds"), labels_, latency_buckets(), "Round-trip times of replies")) {
    ident_ = static_cast<std::uint16_t>(rng_());
    cookie_ = rng_();
}

Prober::~Prober() {
    for (auto* s : {&v4_, &v6_}) {
        if (s->fd >= 0) {
            ::close(s->fd);
        }
    }
}

void Prober::on_event(const epoll_event& event) {
    switch (event.data.u64) {
        case kV4: receive(false); break;
        case kV6: receive(true); break;
        case kResolver:
            lookups_.take_first(
                [this](Check& c, const std::string& address) {
                    c.resolving = false;
                    ping(c, address);
                },
                [this](Check& c, const std::string& why) {
                    c.resolving = false;
                    finish(c, std::pair{Failure::Dns, why});
                });
            break;
        default: break;
    }
}

std::optional<Prober::Clock::time_point> Prober::next_deadline() const {
    return timers_.empty() ? std::nullopt : std::optional(timers_.begin()->first);
}

Prober::Socket& Prober::socket_for(bool v6) {
    Socket& s = v6 ? v6_ : v4_;
    if (s.tried) {
        return s;
    }
    s.tried = true;
    int family = v6 ? AF_INET6 : AF_INET;
    int protocol = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
    s.fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    int dgram_errno = errno;
    if (s.fd < 0) {
        s.fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
        s.raw = s.fd >= 0;
        if (s.fd < 0) {
            s.error = fmt::format(
                "cannot open an {} socket: a ping socket is not allowed ({}: this group is outside "
                "net.ipv4.ping_group_range) and a raw one needs CAP_NET_RAW ({})",
                v6 ? "ICMPv6" : "ICMP", std::strerror(dgram_errno), std::strerror(errno));
            log_.error("{}", s.error);
            return s;
        }
        filter(s.fd, v6);
    }
    setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = v6 ? kV6 : kV4;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
        s.error = fmt::format("cannot watch the ICMP socket: {}", std::strerror(errno));
        ::close(s.fd);
        s.fd = -1;
        return s;
    }
    log_.info("pinging over {} {} socket", s.raw ? "a raw" : "an unprivileged", v6 ? "ICMPv6" : "ICMP");
    return s;
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
    c.timer = timers_.emplace(c.start + site->timeout, &c);  // resolving; then each request
    active_.emplace(&c, std::move(owned));
    count_in_flight();
    if (checks::is_address(site->host)) {
        ping(c, site->host);
        return;
    }
    c.resolving = true;
    std::string why;
    if (!lookups_.submit(epoll_, epoll_data_t{.u64 = kResolver}, c, site->host, site->ip_family, why)) {
        finish(c, std::pair{Failure::Dns, why});
    }
}

void Prober::ping(Check& c, const std::string& address) {
    c.address = address;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&c.to);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&c.to);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1 && c.site->ip_family != IpFamily::V6) {
        v4->sin_family = AF_INET;
        c.to_len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1 && c.site->ip_family != IpFamily::V4) {
        v6->sin6_family = AF_INET6;
        c.to_len = sizeof(sockaddr_in6);
        c.v6 = true;
    } else {
        finish(c, std::pair{Failure::Dns, fmt::format("{} is not an address of ip_family {}", address,
                                                      c.site->ip_family == IpFamily::V4 ? "ipv4" : "ipv6")});
        return;
    }
    if (socket_for(c.v6).fd < 0) {
        finish(c, std::pair{Failure::Send, socket_for(c.v6).error});
        return;
    }
    send_next(c);
}

void Prober::send_next(Check& c) {
    const Socket& s = socket_for(c.v6);
    // A sequence number no request in flight holds (65,536 of them would all have to be waiting).
    std::uint16_t seq = next_seq_++;
    for (int i = 0; i < 65536 && pending_.count(key(c.v6, seq)) > 0; ++i) {
        seq = next_seq_++;
    }
    auto message = echo_request(c.v6, ident_, seq, cookie_);
    auto sent_at = Clock::now();
    auto n = ::sendto(s.fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&c.to), c.to_len);
    ++c.tally.sent;
    requests_.inc();
    if (n < 0) {
        c.tally.send_error = std::strerror(errno);  // counted as a request lost
    } else {
        pending_[key(c.v6, seq)] = Pending{&c, sent_at};
        c.keys.push_back(key(c.v6, seq));
    }
    timers_.erase(c.timer);
    c.timer = c.tally.sent < c.site->packets ? timers_.emplace(sent_at + c.site->packet_interval, &c)
                                             : timers_.emplace(sent_at + c.site->timeout, &c);
}

void Prober::receive(bool v6) {
    const Socket& s = v6 ? v6_ : v4_;
    char buf[2048];
    for (;;) {
        auto n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;  // EAGAIN: all read; an error queue entry is not ours to read here
        }
        auto at = Clock::now();
        auto reply = read_reply(v6, s.raw, std::string_view(buf, static_cast<std::size_t>(n)), cookie_);
        // A ping socket's kernel sets the identifier itself and delivers only our replies.
        if (!reply || (s.raw && reply->id != ident_)) {
            continue;
        }
        auto it = pending_.find(key(v6, reply->seq));
        if (it == pending_.end()) {
            continue;  // too late (counted lost), or a duplicate
        }
        Check& c = *it->second.check;
        auto sent = it->second.sent;
        pending_.erase(it);
        if (reply->kind == Reply::Kind::Unreachable) {
            c.tally.unreachable = reply->why;
        } else {
            double ms = checks::ms_between(sent, at);
            if (ms <= std::chrono::duration<double, std::milli>(c.site->timeout).count()) {
                ++c.tally.received;
                c.tally.rtts.push_back(ms);
                replies_.inc();
                rtt_.observe(ms / 1000.0);
            }
        }
        bool waiting = std::any_of(c.keys.begin(), c.keys.end(), [&](std::uint32_t k) {
            auto p = pending_.find(k);
            return p != pending_.end() && p->second.check == &c;
        });
        if (c.tally.sent == c.site->packets && !waiting) {
            finish(c);  // every request answered (or refused): no need to wait for the timeout
        }
    }
}

void Prober::after_events() {
    auto steady = Clock::now();
    while (!timers_.empty() && timers_.begin()->first <= steady) {
        Check& c = *timers_.begin()->second;
        if (c.resolving) {
            finish(c, std::pair{Failure::Dns, fmt::format("resolving {} took longer than {}", c.site->host,
                                                          format_duration(c.site->timeout))});
        } else if (c.tally.sent < c.site->packets) {
            send_next(c);
        } else {
            finish(c);
        }
    }
}

void Prober::finish(Check& c, std::optional<std::pair<Failure, std::string>> verdict) {
    const Site& site = *c.site;
    auto end = Clock::now();
    auto stats = rtt_stats(c.tally.rtts);
    if (!verdict) {
        verdict = judge(site, c.tally);
    }
    if (retry(c.site, c.attempt, verdict->first != Failure::None)) {
        end_attempt(c);
        return;
    }
    // The replies' mean round trip, what a ping check is graphed by; the check's own length
    // (packets times packet_interval) says nothing of the host.
    auto r = record_of(site, c.attempt, c.tally.received > 0 ? stats.avg : checks::ms_between(c.start, end));
    r.ok = verdict->first == Failure::None;
    if (!*r.ok) {
        r.error = std::string(to_string(verdict->first));
        r.error_detail = std::move(verdict->second);
    }
    r.dns_ms = c.dns_ms;
    if (!c.address.empty()) {
        r.remote_ip = c.address;
    }
    if (c.tally.sent > 0) {
        double loss = 100.0 * static_cast<double>(c.tally.sent - c.tally.received) / static_cast<double>(c.tally.sent);
        r.packets_sent = static_cast<int>(c.tally.sent);
        r.packets_received = static_cast<int>(c.tally.received);
        r.packet_loss = loss;
    }
    if (c.tally.received > 0) {
        r.rtt_min_ms = stats.min;
        r.rtt_avg_ms = stats.avg;
        r.rtt_max_ms = stats.max;
        r.rtt_stddev_ms = stats.stddev;
    }

    emit(std::move(r), site, static_cast<std::size_t>(verdict->first));
    end_attempt(c);
}

void Prober::end_attempt(Check& c) {
    for (auto k : c.keys) {
        if (auto p = pending_.find(k); p != pending_.end() && p->second.check == &c) {
            pending_.erase(p);
        }
    }
    lookups_.cancel(c);
    timers_.erase(c.timer);
    active_.erase(&c);
    count_in_flight();
}

}  // namespace vigil::plugins::icmp_check
