// SPDX-License-Identifier: Apache-2.0
// One thread checks every site of a tcp_check instance: non-blocking sockets on one epoll set,
// the shared scheduler for when, the shared resolver for host names. Thousands of checks in flight
// cost a socket and a few hundred bytes each, never a thread.
#pragma once

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
#include "outbox.hpp"
#include "record_batcher.hpp"
#include "pacer.hpp"
#include "retries.hpp"
#include "tcp_check_config.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::tcp_check {

/// What the prober says of each check, as the record's `error` names it.
enum class Failure { None, Dns, Connect, Timeout, Expect };
std::string_view to_string(Failure f);

/// What the bytes a server sent so far say of a check with `expect`: a match (Failure::None), no
/// match possible any more (Failure::Expect and why: max_read reached, or the server `closed`),
/// or nullopt: read on. The detail shows the first bytes read, control characters escaped.
std::optional<std::pair<Failure, std::string>> judge_read(const Site& site, std::string_view read, bool closed);

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
    using Clock = std::chrono::steady_clock;

    checks::Time now() const { return wall_start_ + (Clock::now() - steady_start_); }
    void take_offer();
    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt);
    void connect(Check& c, const std::string& address);
    void on_event(Check& c, std::uint32_t events);
    void on_writable(Check& c);
    void on_readable(Check& c);
    void after_connect_or_send(Check& c);
    void resolved();
    void expire();
    void finish(Check& c, Failure failure, std::string detail);  // records, or retries
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
    Clock::time_point steady_start_;
    checks::Time wall_start_{};
    std::unordered_set<std::string> running_;  // sites with a check in flight
    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    std::multimap<Clock::time_point, Check*> deadlines_;
    std::unique_ptr<checks::Resolver> resolver_;  // made at the first host name
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
    Gauge& in_flight_;
    std::array<Counter*, 5> results_{};  // by Failure
    Histogram& duration_;
    checks::Pacer<Site> pacer_;  // after skipped_, which it counts into
    checks::Retries<Site> retries_;
};

}  // namespace vigil::plugins::tcp_check
