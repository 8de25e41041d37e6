// SPDX-License-Identifier: Apache-2.0
// One thread checks every site of a dns_check instance: c-ares sends the queries and reads the
// answers (UDP, again over TCP when truncated) on sockets this thread watches with epoll; ldns
// reads the answers (answer.hpp). One c-ares channel per server asked, and its few sockets carry
// every query to that server: thousands of checks in flight cost a few hundred bytes each.
#pragma once

#include <ares.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "answer.hpp"
#include "dns_check_config.hpp"
#include "failure_digest.hpp"
#include "mailbox.hpp"
#include "outbox.hpp"
#include "record_batcher.hpp"
#include "pacer.hpp"
#include "retries.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::dns_check {

class Prober {
  public:
    struct Identity {
        std::string instance;
        std::string agent;     // the record's `agent`
        std::string location;  // the record's `location`
    };
    /// Throws std::runtime_error if the epoll set or c-ares cannot be set up.
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
    struct Channel;
    using Clock = std::chrono::steady_clock;

    checks::Time now() const { return wall_start_ + (Clock::now() - steady_start_); }
    void take_offer();
    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt);
    Channel* channel_for(const Site& site, std::string& why);
    void watch(Channel& ch, int fd, bool readable, bool writable);
    void answered(Check& c, int status, const unsigned char* data, int size);
    void expire();
    // Records the check, or makes it wait to retry.
    void finish(Check& c, Failure failure, std::string detail, const Answer* answer = nullptr);
    void end_attempt(Check& c);
    std::size_t in_flight() const { return active_.size() + retries_.size(); }

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* data, int size);

    Identity id_;
    Logger log_;
    checks::Outbox& outbox_;
    const StopToken& stop_;

    // Another thread (a reload) only hands over an offer; the prober's own thread owns every
    // other member.
    checks::Mailbox<Config> offered_;

    int epoll_ = -1;
    bool destroying_ = false;  // c-ares calls back every query as its channels go: nothing is recorded
    Clock::time_point steady_start_;
    checks::Time wall_start_{};
    std::unordered_set<std::string_view> running_;  // sites with a check in flight (the check holds the name)
    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    // Checks recorded (timed out) whose query c-ares still holds: freed when it calls back.
    std::unordered_map<Check*, std::unique_ptr<Check>> abandoned_;
    std::multimap<Clock::time_point, Check*> deadlines_;
    // By server, port, transport and timeout in ms; the server's text is the channel's own.
    using ChannelKey = std::tuple<std::string_view, std::uint16_t, Transport, std::int64_t>;
    std::map<ChannelKey, std::unique_ptr<Channel>> channels_;
    std::unordered_map<int, Channel*> sockets_;  // c-ares' sockets, watched by epoll
    Clock::time_point next_ares_tick_{};
    checks::FailureDigest digest_;
    checks::FailingSites failing_;
    Clock::time_point next_digest_tick_{};
    std::mt19937_64 rng_;
    checks::RecordBatcher batcher_;

    Labels labels_;
    Counter& overruns_;
    Counter& skipped_;
    Gauge& in_flight_;
    std::array<Counter*, 7> results_{};  // by Failure
    Histogram& duration_;
    checks::Pacer<Site> pacer_;  // after skipped_, which it counts into
    checks::Retries<Site> retries_;
};

}  // namespace vigil::plugins::dns_check
