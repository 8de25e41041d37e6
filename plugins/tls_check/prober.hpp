// SPDX-License-Identifier: Apache-2.0
// One thread checks every site of a tls_check instance: non-blocking sockets on one epoll set, a
// STARTTLS dialogue where the site asks for one, then OpenSSL's handshake driven by the same
// events; the shared pacer for when, the shared resolver for host names. Thousands of checks in
// flight cost a socket and an SSL object each, never a thread.
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
#include "tls_check_config.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

struct ssl_ctx_st;

namespace vigil::plugins::tls_check {

/// What the prober says of each check, as the record's `error` names it.
enum class Failure { None, Dns, Connect, Timeout, Starttls, Tls, Certificate, Expiring, Revoked };
std::string_view to_string(Failure f);

/// What a finished handshake showed of the server's certificate.
struct CertFacts {
    bool present = false;
    std::string verify_error;  // empty: the chain is trusted and holds the name
    std::optional<Timestamp> not_after;
    std::optional<std::string> ocsp;  // a stapled answer's status: good, revoked, unknown
};
/// What `site` makes of them at `now`: Failure::None, or the failure and a one-line detail.
std::pair<Failure, std::string> judge_certificate(const Site& site, const CertFacts& facts, Timestamp now);

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
    void connected(Check& c);
    void write_pending(Check& c);
    void read_dialogue(Check& c);
    void start_tls(Check& c);
    void handshake(Check& c);
    void handshaken(Check& c);
    bool watch(Check& c, std::uint32_t events);
    ssl_ctx_st* context_for(const Site& site, std::string& why);
    void resolved();
    void expire();
    void finish(Check& c, Failure failure, std::string detail);
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
    std::map<std::string, ssl_ctx_st*> contexts_;  // by CA file and minimum version
    std::unique_ptr<checks::Resolver> resolver_;   // made at the first host name
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
    std::array<Counter*, 9> results_{};  // by Failure
    Histogram& duration_;
    checks::Pacer<Site> pacer_;  // after skipped_, which it counts into
    checks::Retries<Site> retries_;
};

}  // namespace vigil::plugins::tls_check
