// SPDX-License-Identifier: Apache-2.0
// One thread pings every site of an icmp_check instance: one ICMP socket per address family for
// all of them (an unprivileged ping socket where net.ipv4.ping_group_range allows it, else a raw
// socket, which needs CAP_NET_RAW), epoll for replies and the shared resolver for host names. A
// request is known by its sequence number (and, on a raw socket, this prober's identifier), a
// reply by the prober's cookie in its payload. Thousands of hosts cost a few hundred bytes each.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <utility>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lookups.hpp"
#include "probe_loop.hpp"
#include "icmp_check_config.hpp"
#include "vigil/metrics.hpp"

namespace vigil::plugins::icmp_check {

/// What the prober says of each check, as the record's `error` names it.
enum class Failure { None, Dns, Send, Unreachable, Timeout, Loss, Rtt };
std::string_view to_string(Failure f);

/// The round-trip figures of a check's replies, milliseconds.
struct RttStats {
    double min = 0, avg = 0, max = 0, stddev = 0;
};
RttStats rtt_stats(const std::vector<double>& rtts);

/// What one check's requests came to.
struct Tally {
    std::int64_t sent = 0;
    std::int64_t received = 0;
    std::vector<double> rtts;  // of the replies in time, milliseconds
    std::string unreachable;   // what an error about one of its requests said
    std::string send_error;    // why the kernel refused to send one
};
/// What `site` makes of a tally: Failure::None, or the failure and a one-line detail. With no
/// reply at all: unreachable, send or timeout; else loss above max_loss, then a mean above max_rtt.
std::pair<Failure, std::string> judge(const Site& site, const Tally& t);

class Prober : public checks::ProbeLoop<Site> {
  public:
    /// Throws std::runtime_error if the epoll set cannot be made.
    Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once);
    ~Prober() override;
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

  private:
    struct Check;
    struct Socket {
        int fd = -1;
        bool raw = false;  // a raw socket: IPv4's come with the IP header; our identifier is kept
        bool tried = false;
        std::string error;  // why it could not be opened
    };

    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) override;
    void on_event(const epoll_event& event) override;
    void after_events() override;  // each check's next request, or its end
    std::optional<Clock::time_point> next_deadline() const override;
    std::size_t attempts() const override { return active_.size(); }

    Socket& socket_for(bool v6);
    void ping(Check& c, const std::string& address);
    void send_next(Check& c);
    void receive(bool v6);
    void finish(Check& c, std::optional<std::pair<Failure, std::string>> verdict = std::nullopt);
    void end_attempt(Check& c);

    Socket v4_, v6_;
    std::uint16_t ident_ = 0;  // the echo identifier on raw sockets
    std::uint16_t next_seq_ = 0;
    std::uint64_t cookie_ = 0;
    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    struct Pending {
        Check* check;
        Clock::time_point sent;
    };
    std::unordered_map<std::uint32_t, Pending> pending_;  // by family << 16 | sequence
    std::multimap<Clock::time_point, Check*> timers_;     // a check's next request, or its end
    checks::Lookups<Check> lookups_;
    Counter& replies_;
    Counter& requests_;
    Histogram& rtt_;
};

}  // namespace vigil::plugins::icmp_check
