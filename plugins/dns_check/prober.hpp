// SPDX-License-Identifier: Apache-2.0
// One thread checks every site of a dns_check instance: c-ares sends the queries and reads the
// answers (UDP, again over TCP when truncated) on sockets this thread watches with epoll; ldns
// reads the answers (answer.hpp). One c-ares channel per server asked, and its few sockets carry
// every query to that server: thousands of checks in flight cost a few hundred bytes each.
#pragma once

#include <ares.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "answer.hpp"
#include "dns_check_config.hpp"
#include "probe_loop.hpp"
#include "vigil/metrics.hpp"

namespace vigil::plugins::dns_check {

class Prober : public checks::ProbeLoop<Site> {
  public:
    /// Throws std::runtime_error if the epoll set or c-ares cannot be set up.
    Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once);
    ~Prober() override;
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

  private:
    struct Check;
    struct Channel;

    void start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) override;
    void on_event(const epoll_event& event) override;
    void after_events() override;  // c-ares' timeouts, then the checks past their deadline
    std::optional<Clock::time_point> next_deadline() const override;
    std::size_t attempts() const override { return active_.size(); }

    Channel* channel_for(const Site& site, std::string& why);
    void watch(Channel& ch, int fd, bool readable, bool writable);
    void answered(Check& c, int status, const unsigned char* data, int size);
    // Records the check, or makes it wait to retry.
    void finish(Check& c, Failure failure, std::string detail, const Answer* answer = nullptr);
    void end_attempt(Check& c);

    static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* data, int size);

    bool destroying_ = false;  // c-ares calls back every query as its channels go: nothing is recorded
    std::unordered_map<Check*, std::unique_ptr<Check>> active_;
    // Checks recorded (timed out) whose query c-ares still holds: freed when it calls back.
    std::unordered_map<Check*, std::unique_ptr<Check>> abandoned_;
    std::multimap<Clock::time_point, Check*> deadlines_;
    // By server, port, transport and timeout in ms; the server's text is the channel's own.
    using ChannelKey = std::tuple<std::string_view, std::uint16_t, Transport, std::int64_t>;
    std::map<ChannelKey, std::unique_ptr<Channel>> channels_;
    std::unordered_map<int, Channel*> sockets_;  // c-ares' sockets, watched by epoll
    Clock::time_point next_ares_tick_{};
    Histogram& duration_;
};

}  // namespace vigil::plugins::dns_check
