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
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "address_resolver.hpp"
#include "failure_digest.hpp"
#include "mailbox.hpp"
#include "icmp_check_config.hpp"
#include "outbox.hpp"
#include "pacer.hpp"
#include "retries.hpp"
#include "record_batcher.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

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

class Prober {
  public:
    struct Identity {
        std::string instance;
        std::string agent;     // the record's `agent`
        std::string location;  // the record's `location`
    };
    /// Throws std::runtime_error if the epoll set cannot be made.
    Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once);
    ~Prober();
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

    /// A new configuration (thread-safe): applied between events; unchanged sites keep their
    /// schedule, a removed site's check in flight finishes and is still recorded.
    std::uint64_t offer(const Config& config);  // the offer's number, for offers().wait_applied
    checks::Mailbox<Config>& offers() { return offered_; }
    /// Checks until `stop` (or, once, until every site was checked once).
    void run();

  private:
    struct Check;
    struct Socket {
        int fd = -1;
        bool raw = false;  // a raw socket: IPv4's come with the IP header; our identifier is kept
        bool tried = false;
        std::string error;  // why it could not be opened
    };
    using Clock = std::chrono::steady_clock;

    checks::Time now() const { return wall_start_ + (Clock::now() - steady_start_); }
    void take_offer();
    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt);
    Socket& socket_for(bool v6);
    void ping(Check& c, const std::string& address);
    void send_next(Check& c);
    void receive(bool v6);
    void resolved();
    void on_timers();
    void finish(Check& c, std::optional<std::pair<Failure, std::string>> verdict = std::nullopt);
    void end_attempt(Check& c);
    std::size_t in_flight() const { return active_.size() + retries_.size(); }

    Identity id_;
    Logger log_;
    checks::Outbox& outbox_;
    const StopToken& stop_;

    // Another thread (a reload) only hands over an offer; the prober's own thread owns every
    // other member.
    checks::Mailbox<Config> offered_;

    int epoll_ = -1;
    Socket v4_, v6_;
    std::uint16_t ident_ = 0;  // the echo identifier on raw sockets
    std::uint16_t next_seq_ = 0;
    std::uint64_t cookie_ = 0;
    Clock::time_point steady_start_;
    checks::Time wall_start_{};
    std::unordered_set<std::string> running_;  // sites with a check in flight
    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    struct Pending {
        Check* check;
        Clock::time_point sent;
    };
    std::unordered_map<std::uint32_t, Pending> pending_;  // by family << 16 | sequence
    std::multimap<Clock::time_point, Check*> timers_;     // a check's next request, or its end
    std::unique_ptr<checks::Resolver> resolver_;          // made at the first host name
    std::unordered_map<std::uint64_t, Check*> resolving_;
    std::uint64_t next_token_ = 0;
    checks::FailureDigest digest_;
    checks::FailingSites failing_;
    Clock::time_point next_digest_tick_{};
    std::mt19937_64 rng_;
    checks::RecordBatcher batcher_;

    Labels labels_;
    Counter& overruns_;
    Counter& skipped_;
    Counter& replies_;
    Counter& requests_;
    Gauge& in_flight_;
    std::array<Counter*, 7> results_{};  // by Failure
    Histogram& rtt_;
    checks::Pacer<Site> pacer_;  // after skipped_, which it counts into
    checks::Retries<Site> retries_;
};

}  // namespace vigil::plugins::icmp_check
