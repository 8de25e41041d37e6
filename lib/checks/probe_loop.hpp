// SPDX-License-Identifier: Apache-2.0
// The event loop of a check plugin whose checks all run on one thread over epoll (tcp_check,
// dns_check, icmp_check, tls_check): configurations taken between events, checks started at
// their slots (Pacer) and again after a failure (Retries), the wait for the soonest of those and
// of the plugin's own deadlines, batches flushed, the failure digest ticked; the metrics every
// kind has; what every record says of its site, its attempt and its agent. A plugin's prober
// derives from it and adds what a check of its kind does: start one, answer an event, end the
// ones past their deadline, and the record's own fields.
#pragma once

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "check_config.hpp"
#include "check_id.hpp"
#include "failure_digest.hpp"
#include "mailbox.hpp"
#include "outbox.hpp"
#include "pacer.hpp"
#include "record_batcher.hpp"
#include "retries.hpp"
#include "vigil/metrics.hpp"
#include "vigil/record.hpp"
#include "vigil/source.hpp"

namespace vigil::checks {

template <typename Site>
class ProbeLoop {
  public:
    using Config = CheckConfig<Site>;
    struct Identity {
        std::string instance;
        std::string agent;     // the record's `agent`
        std::string location;  // the record's `location`
    };

    virtual ~ProbeLoop() {
        in_flight_.set(0);
        ::close(epoll_);
    }
    ProbeLoop(const ProbeLoop&) = delete;
    ProbeLoop& operator=(const ProbeLoop&) = delete;

    /// A new configuration (thread-safe): applied between events; unchanged sites keep their
    /// schedule, a removed site's check in flight finishes and is still recorded.
    std::uint64_t offer(const Config& config) { return offered_.put(config); }
    Mailbox<Config>& offers() { return offered_; }  // for offers().wait_applied(offer's number)

    /// Checks until `stop` (or, once, until every site was checked once).
    void run() {
        take_offer();
        pacer_.begin();
        if (id_.location.empty()) {
            id_.location = id_.agent;
        }
        std::array<epoll_event, kEventsPerWait> events{};
        while (!stop_.stop_requested()) {
            take_offer();
            retries_.start_due([this](const auto& site, const Attempt& a) { start(site, a); });
            pacer_.start_due([this] { return now(); }, outbox_.full(), [this] { return in_flight(); },
                             [this](const std::shared_ptr<const Site>& site, Time scheduled) {
                                 start(site, Attempt::first(scheduled, now()));
                             });
            if (pacer_.once_started() && in_flight() == 0) {
                break;
            }
            auto steady = Clock::now();
            auto deadline = next_deadline();
            int n = epoll_wait(epoll_, events.data(), kEventsPerWait,
                               wait_ms(kStopPoll, {pacer_.due_in(now(), outbox_.full(), in_flight()),
                                                   deadline ? std::optional(*deadline - steady) : std::nullopt,
                                                   retries_.due_in(), batcher_.due_in()}));
            for (int i = 0; i < n; ++i) {
                on_event(events[static_cast<std::size_t>(i)]);
            }
            after_events();
            batcher_.flush(outbox_, false);
            if (auto at = Clock::now(); at >= next_digest_tick_) {
                digest_.tick(at);
                next_digest_tick_ = at + std::chrono::seconds(1);
            }
        }
        if (in_flight() > 0) {
            log_.info("stopping: abandoning {} checks in flight", in_flight());
        }
        batcher_.flush(outbox_, true);
        digest_.flush();
    }

  protected:
    using Clock = std::chrono::steady_clock;

    /// `kind` names the record's kind and the metrics (vigil_<kind>_check_...); `results` are the
    /// kind's results in the order of its Failure enum, "ok" first: the checks_total counters.
    /// Throws std::runtime_error if the epoll set cannot be made.
    ProbeLoop(std::string_view kind, std::initializer_list<std::string_view> results, Identity id, Logger log,
              Outbox& outbox, const StopToken& stop, bool once)
        : id_(std::move(id)), log_(std::move(log)), outbox_(outbox), stop_(stop),
          rng_(seeded_rng()), labels_{{"instance", id_.instance}}, kind_(kind), digest_(log_), failing_(digest_, log_),
          overruns_(counter(metric("overruns_total"), labels_,
                            "Slots skipped because the previous check of the site was still running")),
          skipped_(counter(metric("skipped_slots_total"), labels_,
                           "Slots skipped because checks started more than an interval late (the pipeline was full)")),
          in_flight_(gauge(metric("in_flight"), labels_, "Checks in flight")), pacer_(once, skipped_) {
        for (auto result : results) {
            Labels l = labels_;
            l.emplace_back("result", std::string(result));
            results_.push_back(&counter(metric("checks_total"), l, "Checks finished, by result"));
        }
        steady_start_ = Clock::now();
        wall_start_ = std::chrono::duration_cast<Time>(std::chrono::system_clock::now().time_since_epoch());
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) {
            throw std::runtime_error(fmt::format("epoll_create1: {}", std::strerror(errno)));
        }
    }

    // What a kind's prober does. start: one attempt of `site` (after begin_attempt said yes);
    // on_event: one epoll event of a descriptor it added to epoll_; after_events: ends the checks
    // past their deadline; next_deadline: the soonest of those; attempts: how many are under way.
    virtual void start(const std::shared_ptr<const Site>& site, const Attempt& attempt) = 0;
    virtual void on_event(const epoll_event& event) = 0;
    virtual void after_events() = 0;
    virtual std::optional<Clock::time_point> next_deadline() const = 0;
    virtual std::size_t attempts() const = 0;

    Time now() const { return wall_start_ + (Clock::now() - steady_start_); }
    std::string metric(std::string_view what) const { return fmt::format("vigil_{}_check_{}", kind_, what); }
    /// Attempts under way and attempts waiting to retry: what max_concurrency and --once count.
    std::size_t in_flight() const { return attempts() + retries_.size(); }
    void count_in_flight() { in_flight_.set(static_cast<double>(in_flight())); }

    /// Whether `site`'s attempt may start: a first attempt while the site's check still runs is
    /// an overrun (counted), and the slot is skipped.
    bool begin_attempt(const Site& site, const Attempt& attempt) {
        if (attempt.number == 1 && !running_.insert(site.name).second) {  // a retry's site is running
            overruns_.inc();
            return false;
        }
        return true;
    }
    /// Whether a failed attempt waits to retry (then the kind ends the attempt without a record).
    bool retry(const std::shared_ptr<const Site>& site, const Attempt& attempt, bool failed) {
        return retries_.again(site, attempt, failed, stop_.stop_requested());
    }
    /// A record with what every kind says: the site, the attempt's times and ids, the agent.
    CheckRecord record_of(const Site& site, const Attempt& attempt, double response_time) {
        CheckRecord r;
        r.name = site.name;
        r.url = site.url;
        r.response_time = response_time;
        attempt.stamp(r, rng_);
        r.agent = id_.agent;
        r.kind = std::string(kind_);
        r.location = id_.location;
        if (!site.group.empty()) {
            r.group = site.group;
        }
        return r;
    }
    /// Hands the record on: counted by result (`failure`, the Failure's number), noted for the
    /// failure digest, batched; the site's check is over.
    void emit(CheckRecord r, const Site& site, std::size_t failure) {
        results_.at(failure)->inc();
        failing_.note(site.name, site.url, failure == 0, r.error.value_or(""), r.error_detail.value_or(""));
        batcher_.add(std::move(r), outbox_);
        running_.erase(site.name);
    }

    Identity id_;
    Logger log_;
    Outbox& outbox_;
    const StopToken& stop_;
    int epoll_ = -1;
    std::mt19937_64 rng_;
    Labels labels_;

  private:
    static constexpr auto kStopPoll = std::chrono::milliseconds(100);
    static constexpr int kEventsPerWait = 256;

    void take_offer() {
        offered_.apply([this](const Config& next) {
            batcher_.set_limits(next.batch_size, next.batch_delay);
            pacer_.apply(next.sites, now(), next.max_concurrency,
                         [this](const std::string& name) { failing_.forget(name); });
        });
    }

    // Another thread (a reload) only hands over an offer; the prober's own thread owns every
    // other member.
    Mailbox<Config> offered_;
    std::string_view kind_;
    FailureDigest digest_;
    FailingSites failing_;
    Clock::time_point steady_start_;
    Time wall_start_{};
    Clock::time_point next_digest_tick_{};
    std::unordered_set<std::string_view> running_;  // sites with a check in flight (the check holds the name)
    RecordBatcher batcher_;
    Counter& overruns_;
    Counter& skipped_;
    Gauge& in_flight_;
    std::vector<Counter*> results_;  // by Failure
    Pacer<Site> pacer_;              // after skipped_, which it counts into
    Retries<Site> retries_;
};

}  // namespace vigil::checks
