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
#include <string>
#include <string_view>
#include <unordered_map>

#include "lookups.hpp"
#include "probe_loop.hpp"
#include "tls_check_config.hpp"
#include "vigil/metrics.hpp"

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

class Prober : public checks::ProbeLoop<Site> {
  public:
    /// Throws std::runtime_error if the epoll set cannot be made.
    Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once);
    ~Prober() override;
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

    /// Checks until `stop` (or, once, until every site was checked once), with SIGPIPE held off.
    void run();

  private:
    struct Check;

    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) override;
    void on_event(const epoll_event& event) override;
    void after_events() override;  // ends the checks past their deadline
    std::optional<Clock::time_point> next_deadline() const override;
    std::size_t attempts() const override { return active_.size(); }

    void connect(Check& c, const std::string& address);
    void connected(Check& c);
    void write_pending(Check& c);
    void read_dialogue(Check& c);
    void start_tls(Check& c);
    void handshake(Check& c);
    void handshaken(Check& c);
    bool watch(Check& c, std::uint32_t events);
    ssl_ctx_st* context_for(const Site& site, std::string& why);
    void finish(Check& c, Failure failure, std::string detail);  // records, or retries
    void end_attempt(Check& c);

    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    std::multimap<Clock::time_point, Check*> deadlines_;
    std::map<std::string, ssl_ctx_st*> contexts_;  // by CA file and minimum version
    checks::Lookups<Check> lookups_;
    Histogram& duration_;
};

}  // namespace vigil::plugins::tls_check
