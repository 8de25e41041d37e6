// SPDX-License-Identifier: Apache-2.0
// One event loop of http_check: an epoll set, a curl multi handle and the sites hashed to it.
// Workers share nothing but the outbox, the counters and Shared, so they scale with cores. A
// reload hands each worker its new share (offer), which it applies between events: new sites
// start, removed ones stop, unchanged ones keep their schedule.
#pragma once

#include <curl/curl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "failure_digest.hpp"
#include "http_check_config.hpp"
#include "outbox.hpp"
#include "resolver.hpp"
#include "result.hpp"
#include "retries.hpp"
#include "record_batcher.hpp"
#include "schedule.hpp"
#include "site_table.hpp"
#include "system_calls.hpp"
#include "transfer.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

using checks::FailureDigest;
using checks::Outbox;
using checks::Scheduler;

/// What the workers of one http_check instance share.
struct WorkerShared {
    WorkerShared(std::string instance_name, std::string agent_name, Logger logger)
        : instance(std::move(instance_name)), agent(std::move(agent_name)), log(std::move(logger)), digest(log) {}
    std::string instance;
    std::string agent;  // the record's `agent`
    Logger log;
    std::atomic<std::int64_t> in_flight{0};  // checks in flight across the workers (one gauge)
    FailureDigest digest;                    // the workers' failed checks, summarised
    std::string location;                    // the records' `location`
    // A worker signals here when it has applied an offer (a sites topic waits for that).
    Mutex applied_mutex;
    std::condition_variable applied;
};

class Worker {
  public:
    /// Throws std::runtime_error if the epoll set or the curl multi handle cannot be made.
    Worker(WorkerShared& shared, Outbox& outbox, const StopToken& stop, bool once, std::size_t max_in_flight);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Hands this worker its share of a new configuration; applied between events. Returns the
    /// offer's number: applied() reaches it once the worker has applied it.
    std::uint64_t offer(std::vector<std::shared_ptr<const Site>> sites, std::size_t max_in_flight,
                        std::size_t batch_size, Duration batch_delay);
    std::uint64_t applied() const { return applied_.load(); }
    /// Checks until `stop` (or, once, until every site was checked once).
    void run();

  private:
    struct Offer {
        std::vector<std::shared_ptr<const Site>> sites;
        std::size_t max_in_flight;
        std::size_t batch_size;
        Duration batch_delay;
        std::uint64_t number;
    };

    Time now() const { return wall_start_ + (std::chrono::steady_clock::now() - steady_start_); }
    static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* known);
    static int on_timer(CURLM*, long timeout_ms, void* user);
    int wait_ms();
    void take_offer();
    void start_due();
    void start(Scheduler::SiteId id, Time scheduled, Time t);
    Transfer* adopt(const std::shared_ptr<const Site>& site, Time scheduled, Time t);
    void launch(Transfer* t);
    /// Adds the transfer's handle to the multi handle; if curl refuses, completes the check as
    /// failed and returns false.
    bool add(Transfer* t);
    void resolve(Transfer* t);
    /// Makes the resolver (ip_mode: all) and watches its descriptor; the reason if it cannot.
    std::optional<std::string> start_resolver();
    void resolved();
    void start_retries();
    void collect();
    void completed(Transfer* t, Outcome out);
    void release(Transfer* t);
    void recycle(std::unique_ptr<Transfer> t);
    void set_in_flight(std::int64_t change);

    // Threads. The worker's own thread (run()) owns every member not marked otherwise, the curl
    // multi handle, the epoll set and every Transfer included: curl and the resolver call back on
    // it. Another thread (a reload, the sites topic) only hands over an offer, under
    // offer_mutex_, and reads applied_. shared_ and outbox_ are shared by all workers and lock
    // inside.
    WorkerShared& shared_;
    Outbox& outbox_;
    const StopToken& stop_;
    bool once_;
    std::size_t max_in_flight_;
    Mutex offer_mutex_;
    std::optional<Offer> offered_ VIGIL_GUARDED_BY(offer_mutex_);
    std::uint64_t offers_ VIGIL_GUARDED_BY(offer_mutex_) = 0;
    std::atomic<std::uint64_t> applied_{0};
    std::mt19937_64 rng_;
    Labels labels_;
    Counter& overruns_;
    Counter& skipped_;
    Gauge& in_flight_gauge_;
    std::array<Counter*, kErrorKinds> results_{};  // by ErrorKind
    Histogram& duration_;
    Histogram& lag_;

    std::chrono::steady_clock::time_point steady_start_;
    Time wall_start_{};
    int epoll_ = -1;
    CURLM* multi_ = nullptr;
    std::optional<std::chrono::steady_clock::time_point> curl_deadline_;
    checks::SiteTable<Site> sites_;
    std::unordered_map<std::string, int> running_;  // checks in flight by site (ip_mode: all has several)
    // Every check in flight: with curl, resolving (ip_mode: all) or waiting to retry.
    std::unordered_map<Transfer*, std::unique_ptr<Transfer>> active_;
    checks::RetryQueue<Transfer*> retries_;
    std::unique_ptr<Resolver> resolver_;  // made at the first site with ip_mode: all
    std::unordered_map<std::uint64_t, Transfer*> resolving_;
    std::uint64_t next_token_ = 0;
    checks::FailingSites failing_;  // which sites' last check failed
    std::chrono::steady_clock::time_point next_digest_tick_{};
    std::vector<CURL*> pool_;
    std::vector<std::unique_ptr<Transfer>> spare_;
    std::deque<Scheduler::SiteId> once_queue_;

    checks::RecordBatcher batcher_;
    std::chrono::steady_clock::time_point next_skip_count_{};
};

}  // namespace vigil::plugins::http_check
