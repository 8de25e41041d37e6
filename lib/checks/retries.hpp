// SPDX-License-Identifier: Apache-2.0
// Retries for the one-thread check plugins (tcp, dns, icmp, tls_check), as http_check has them:
// a failed attempt with retries left waits retry_delay and the check goes again from the start
// (the name resolved again); the first attempt that passes ends it. Only the last attempt becomes
// a record, with the first attempt's slot and start time and `attempts` saying how many it took.
// A check waiting to retry counts as in flight, and the site's next slot is an overrun meanwhile.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <utility>

#include "check_id.hpp"
#include "schedule.hpp"
#include "vigil/config.hpp"
#include "vigil/record.hpp"

namespace vigil::checks {

/// The per-site options, written once for each plugin's site macro (see check_options.hpp).
#define VIGIL_RETRY_SITE_OPTIONS(DEFAULT)                                                                        \
    {.key = "retries",                                                                                           \
     .type = OptionType::Int,                                                                                    \
     .default_value = DEFAULT("0"),                                                                              \
     .description =                                                                                              \
         "Attempts after a failed one before the check counts as failed (0 to 10): a check fails only if every " \
         "attempt failed, and its record says in `attempts` how many it took"},                                  \
        {.key = "retry_delay",                                                                                   \
         .type = OptionType::Duration,                                                                           \
         .default_value = DEFAULT("1s"),                                                                         \
         .description = "Pause between a failed attempt and the next"},

/// Which try of a check this is, and what every try keeps of the first.
struct Attempt {
    int number = 1;            // 1, then 2.. for retries: the record's `attempts`
    Time scheduled{};          // the slot (lag_ms is from it)
    Time started{};            // when the first attempt started, on the schedule's clock
    Timestamp started_wall{};  // the record's `timestamp` and its check_id's time

    /// A check's first attempt, for the slot `scheduled`, starting `now`.
    static Attempt first(Time scheduled, Time now) {
        return {1, scheduled, now, std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now())};
    }
    /// What the record says of when: timestamp, check_id, lag_ms, attempts.
    void stamp(CheckRecord& r, std::mt19937_64& rng) const {
        r.timestamp = started_wall;
        r.check_id = make_check_id(started_wall, rng);
        r.lag_ms = std::chrono::duration<double, std::milli>(started - scheduled).count();
        r.attempts = number;
    }
};

/// Whether an attempt that ended goes again: it failed, the site allows another (`number` is
/// 1 for the first attempt) and the loop is not stopping.
inline bool retry_left(int number, int retries, bool failed, bool stopping) {
    return failed && !stopping && number <= retries;
}

/// Checks waiting for their retry_delay to pass, soonest first. Not thread-safe: the loop's
/// thread owns it. http_check keeps its transfers here (a curl handle is kept across attempts);
/// the other check plugins keep what a new attempt starts from (Retries, below).
template <class Item>
class RetryQueue {
  public:
    using Clock = std::chrono::steady_clock;

    void wait(Duration delay, Item item) { waiting_.emplace(Clock::now() + delay, std::move(item)); }

    /// Hands each item whose delay passed to `start(item)`.
    template <class Start>
    void start_due(Start start) {
        auto now = Clock::now();
        while (!waiting_.empty() && waiting_.begin()->first <= now) {
            Item item = std::move(waiting_.begin()->second);
            waiting_.erase(waiting_.begin());
            start(std::move(item));
        }
    }

    /// How long until the next retry is due, if one waits.
    std::optional<std::chrono::nanoseconds> due_in() const {
        if (waiting_.empty()) {
            return std::nullopt;
        }
        return waiting_.begin()->first - Clock::now();
    }

    /// Checks waiting to retry: in flight, for max_concurrency and --once.
    std::size_t size() const { return waiting_.size(); }

  private:
    std::multimap<Clock::time_point, Item> waiting_;
};

/// For a loop that starts each attempt afresh from its site. `Site` has `retries` and
/// `retry_delay`.
template <class Site>
class Retries {
  public:
    using SitePtr = std::shared_ptr<const Site>;

    /// After an attempt of `site` ended: whether it goes again; if so it waits its retry_delay.
    bool again(const SitePtr& site, const Attempt& attempt, bool failed, bool stopping) {
        if (!retry_left(attempt.number, site->retries, failed, stopping)) {
            return false;
        }
        Attempt next = attempt;
        ++next.number;
        queue_.wait(site->retry_delay, std::pair{site, next});
        return true;
    }

    /// Hands each retry whose delay passed to `start(site, attempt)`.
    template <class Start>
    void start_due(Start start) {
        queue_.start_due([&](std::pair<SitePtr, Attempt> due) { start(due.first, due.second); });
    }

    std::optional<std::chrono::nanoseconds> due_in() const { return queue_.due_in(); }
    std::size_t size() const { return queue_.size(); }

  private:
    RetryQueue<std::pair<SitePtr, Attempt>> queue_;
};

}  // namespace vigil::checks
