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

/// Not thread-safe: the prober's thread owns it. `Site` has `retries` and `retry_delay`.
template <class Site>
class Retries {
  public:
    using SitePtr = std::shared_ptr<const Site>;
    using Clock = std::chrono::steady_clock;

    /// After an attempt of `site` ended: whether it goes again (it failed, the site allows
    /// another and the prober is not stopping); if so it is kept until its retry_delay passed.
    bool again(const SitePtr& site, const Attempt& attempt, bool failed, bool stopping) {
        if (!failed || stopping || attempt.number > site->retries) {
            return false;
        }
        Attempt next = attempt;
        ++next.number;
        waiting_.emplace(Clock::now() + site->retry_delay, std::pair{site, next});
        return true;
    }

    /// Hands each retry whose delay passed to `start(site, attempt)`.
    template <class Start>
    void start_due(Start start) {
        auto now = Clock::now();
        while (!waiting_.empty() && waiting_.begin()->first <= now) {
            auto [site, attempt] = std::move(waiting_.begin()->second);
            waiting_.erase(waiting_.begin());
            start(site, attempt);
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
    std::multimap<Clock::time_point, std::pair<SitePtr, Attempt>> waiting_;
};

}  // namespace vigil::checks
