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
#include <string>
#include <string_view>
#include <unordered_map>

#include "lookups.hpp"
#include "probe_loop.hpp"
#include "tcp_check_config.hpp"
#include "vigil/metrics.hpp"

namespace vigil::plugins::tcp_check {

/// What the prober says of each check, as the record's `error` names it.
enum class Failure { None, Dns, Connect, Timeout, Expect };
std::string_view to_string(Failure f);

/// What the bytes a server sent so far say of a check with `expect`: a match (Failure::None), no
/// match possible any more (Failure::Expect and why: max_read reached, or the server `closed`),
/// or nullopt: read on. The detail shows the first bytes read, control characters escaped.
std::optional<std::pair<Failure, std::string>> judge_read(const Site& site, std::string_view read, bool closed);

class Prober : public checks::ProbeLoop<Site> {
  public:
    /// Throws std::runtime_error if the epoll set cannot be made.
    Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once);
    ~Prober() override;
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

  private:
    struct Check;

    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) override;
    void on_event(const epoll_event& event) override;
    void after_events() override;  // ends the checks past their deadline
    std::optional<Clock::time_point> next_deadline() const override;
    std::size_t attempts() const override { return active_.size(); }

    void connect(Check& c, const std::string& address);
    void on_writable(Check& c);
    void on_readable(Check& c);
    void after_connect_or_send(Check& c);
    void finish(Check& c, Failure failure, std::string detail);  // records, or retries
    void end_attempt(Check& c);

    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    std::multimap<Clock::time_point, Check*> deadlines_;
    checks::Lookups<Check> lookups_;
    Histogram& duration_;
};

}  // namespace vigil::plugins::tcp_check
