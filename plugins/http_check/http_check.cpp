// SPDX-License-Identifier: Apache-2.0
#include "http_check.hpp"

#include <malloc.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <functional>
#include <thread>
#include <unordered_set>

#include <fmt/core.h>

namespace vigil::plugins::http_check {

std::string make_check_id(Timestamp t, std::mt19937_64& rng) {
    auto ms = static_cast<std::uint64_t>(t.time_since_epoch().count() / 1000);
    std::uint64_t a = rng();
    std::uint64_t b = rng();
    unsigned char u[16];
    for (int i = 0; i < 6; ++i) {
        u[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    }
    u[6] = static_cast<unsigned char>(0x70 | ((a >> 8) & 0x0f));  // version 7
    u[7] = static_cast<unsigned char>(a);
    u[8] = static_cast<unsigned char>(0x80 | ((b >> 56) & 0x3f));  // RFC 9562 variant
    for (int i = 9; i < 16; ++i) {
        u[i] = static_cast<unsigned char>(b >> (8 * (15 - i)));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += kHex[u[i] >> 4];
        out += kHex[u[i] & 0x0f];
    }
    return out;
}

std::mt19937_64 seeded_rng() {
    // check_id is the idempotency key downstream: a generator seeded from one 32-bit word could
    // start two agents on the same sequence after 2^16 restarts (birthday bound). Fill the whole
    // state from the OS entropy source instead.
    std::random_device rd;
    std::array<std::uint32_t, std::mt19937_64::state_size * 2> words{};
    std::generate(words.begin(), words.end(), std::ref(rd));
    std::seed_seq seq(words.begin(), words.end());
    return std::mt19937_64(seq);
}

namespace {
constexpr std::size_t kOutboxCapacity = 4;  // batches waiting for the pipeline; then checks pause
constexpr auto kStopPoll = std::chrono::milliseconds(100);
const ErrorKind kKinds[] = {ErrorKind::None, ErrorKind::Dns, ErrorKind::Connect, ErrorKind::Tls,
                            ErrorKind::Timeout, ErrorKind::Http, ErrorKind::Regex,
                            ErrorKind::TooManyRedirects, ErrorKind::Reset, ErrorKind::BodyTooLarge,
                            ErrorKind::Other, ErrorKind::Redirect};
static_assert(std::size(kKinds) == kErrorKinds);
}  // namespace

// Finished batches on their way to the pipeline: workers push, one thread emits. emit() may
// block on backpressure; only this thread waits, never a worker with checks in flight.
// Acknowledgement callbacks, which the pipeline may call after run() returned, capture only
// process-lifetime counters.
class Outbox {
  public:
    Outbox(Emitter& out, const Labels& labels, Logger log)
        : out_(out), log_(std::move(log)),
          dropped_(counter("vigil_http_check_dropped_results_total", labels,
                           "Finished checks the pipeline refused because it was stopping")),
          delivered_(counter("vigil_http_check_delivered_results_total", labels,
                             "Check results every sink accepted")) {
        thread_ = std::thread([this] { loop(); });
    }
    ~Outbox() { close(); }

    void push(Batch b) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(b));
        }
        cv_.notify_all();
    }
    bool full() {
        std::lock_guard lock(mutex_);
        return queue_.size() >= kOutboxCapacity;
    }
    void close() {
        {
            std::lock_guard lock(mutex_);
            closing_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

  private:
    void loop() {
        bool refused = false;
        for (;;) {
            Batch b;
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
                if (queue_.empty()) {
                    return;
                }
                b = std::move(queue_.front());
                queue_.pop_front();
            }
            std::size_t n = b.records.size();
            if (refused) {
                dropped_.inc(n);
                continue;
            }
            Counter& delivered = delivered_;
            Counter& dropped = dropped_;
            if (!out_.emit(std::move(b), [&delivered, &dropped, n](AckStatus s) {
                    (s == AckStatus::Delivered ? delivered : dropped).inc(n);
                })) {
                refused = true;
                dropped_.inc(n);
                log_.info("the pipeline is stopping: {} finished checks were not handed on", n);
            }
        }
    }

    Emitter& out_;
    Logger log_;
    Counter& dropped_;
    Counter& delivered_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Batch> queue_;
    bool closing_ = false;
    std::thread thread_;
};

// One event loop: an epoll set, a curl multi handle and the sites hashed to it. Workers share
// nothing but the outbox and the counters, so they scale with cores.
class HttpCheck::Worker {
  public:
    Worker(HttpCheck& owner, Outbox& outbox, const StopToken& stop, bool once, std::size_t max_in_flight)
        : o_(owner), outbox_(outbox), stop_(stop), once_(once), max_in_flight_(max_in_flight),
          rng_(seeded_rng()),
          labels_{{"instance", owner.instance_}},
          overruns_(counter("vigil_http_check_overruns_total", labels_,
                            "Slots skipped because the previous check of the site was still running")),
          skipped_(counter("vigil_http_check_skipped_slots_total", labels_,
                           "Slots skipped because checks started more than an interval late (the pipeline was "
                           "full, or the host too busy), counted as each slot passes")),
          in_flight_gauge_(gauge("vigil_http_check_in_flight", labels_, "Checks in flight")),
          duration_(histogram("vigil_http_check_duration_seconds", labels_, latency_buckets(),
                              "Check durations (response_time), redirects included")),
          lag_(histogram("vigil_http_check_lag_seconds", labels_, latency_buckets(),
                         "How late checks started against their schedule")) {
        for (auto k : kKinds) {
            Labels l = labels_;
            l.emplace_back("result", k == ErrorKind::None ? "ok" : std::string(to_string(k)));
            results_[static_cast<int>(k)] = &counter("vigil_http_check_checks_total", l, "Checks finished, by result");
        }
        steady_start_ = std::chrono::steady_clock::now();
        wall_start_ = std::chrono::duration_cast<Time>(std::chrono::system_clock::now().time_since_epoch());
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        multi_ = curl_multi_init();
        curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
        curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    }

    ~Worker() {
        in_flight_gauge_.set(static_cast<double>(o_.in_flight_.fetch_sub(static_cast<std::int64_t>(active_.size())) -
                                                 static_cast<std::int64_t>(active_.size())));
        for (Transfer* t : active_) {
            curl_multi_remove_handle(multi_, t->easy);
            curl_easy_cleanup(t->easy);
            delete t;
        }
        for (CURL* e : pool_) {
            curl_easy_cleanup(e);
        }
        curl_multi_cleanup(multi_);
        ::close(epoll_);
    }

    /// Hands this worker its share of a new configuration; applied between events.
    void offer(std::vector<std::shared_ptr<const Site>> sites, std::size_t max_in_flight, std::size_t batch_size,
               Duration batch_delay) {
        std::lock_guard lock(offer_mutex_);
        offered_ = Offer{std::move(sites), max_in_flight, batch_size, batch_delay};
    }

    void run() {
        take_offer();
        if (once_) {
            for (const auto& [id, rt] : sites_) {
                once_queue_.push_back(id);
            }
        }
        epoll_event events[256];
        while (!stop_.stop_requested()) {
            take_offer();
            start_due();
            int wait = wait_ms();
            int n = epoll_wait(epoll_, events, 256, wait);
            int running = 0;
            for (int i = 0; i < n; ++i) {
                int flags = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                            ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                            ((events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(multi_, events[i].data.fd, flags, &running);
            }
            if (curl_deadline_ && std::chrono::steady_clock::now() >= *curl_deadline_) {
                curl_deadline_.reset();
                curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
            }
            collect();
            flush(false);
            if (auto steady = std::chrono::steady_clock::now(); steady >= next_digest_tick_) {
                o_.digest_.tick(steady);
                next_digest_tick_ = steady + std::chrono::seconds(1);
            }
            if (once_ && once_queue_.empty() && active_.empty()) {
                break;
            }
        }
        if (!active_.empty()) {
            o_.log_.info("stopping: abandoning {} checks in flight", active_.size());
        }
        flush(true);
    }

  private:
    Time now() const { return wall_start_ + (std::chrono::steady_clock::now() - steady_start_); }

    static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* known) {
        auto* self = static_cast<Worker*>(user);
        if (what == CURL_POLL_REMOVE) {
            epoll_ctl(self->epoll_, EPOLL_CTL_DEL, fd, nullptr);
            return 0;
        }
        epoll_event ev{};
        ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
        ev.data.fd = fd;
        // curl keeps a pointer per socket for us: set once the socket is in the epoll set, so a
        // new socket costs one ADD and not a failed MOD first.
        if (known == nullptr) {
            if (epoll_ctl(self->epoll_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
                epoll_ctl(self->epoll_, EPOLL_CTL_MOD, fd, &ev);
            }
            curl_multi_assign(self->multi_, fd, self);
        } else if (epoll_ctl(self->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
            epoll_ctl(self->epoll_, EPOLL_CTL_ADD, fd, &ev);
        }
        return 0;
    }

    static int on_timer(CURLM*, long timeout_ms, void* user) {
        auto* self = static_cast<Worker*>(user);
        if (timeout_ms < 0) {
            self->curl_deadline_.reset();
        } else {
            self->curl_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        }
        return 0;
    }

    int wait_ms() {
        auto steady = std::chrono::steady_clock::now();
        auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(kStopPoll);
        if (curl_deadline_) {
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(*curl_deadline_ - steady));
        }
        if (!once_ && !outbox_.full() && active_.size() < max_in_flight_) {
            if (auto due = sched_.next_due()) {
                wait = std::min(wait, *due - now());
            }
        }
        if (!pending_.empty()) {
            wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      pending_since_ + batch_delay_ - steady));
        }
        if (wait <= std::chrono::nanoseconds::zero()) {
            return 0;
        }
        // Round up so a wake-up is never a hair early and then spins.
        return static_cast<int>((wait.count() + 999'999) / 1'000'000);
    }

    void take_offer() {
        std::optional<Offer> next;
        {
            std::lock_guard lock(offer_mutex_);
            next.swap(offered_);
        }
        if (next) {
            max_in_flight_ = next->max_in_flight;
            batch_size_ = next->batch_size;
            batch_delay_ = next->batch_delay;
            apply(next->sites);
        }
    }

    // Brings the running set of sites in line with `sites`: keeps the schedule of unchanged ones.
    void apply(const std::vector<std::shared_ptr<const Site>>& sites) {
        std::unordered_map<std::string, std::shared_ptr<const Site>> wanted;
        for (const auto& s : sites) {
            wanted.emplace(s->name, s);
        }
        for (auto it = by_name_.begin(); it != by_name_.end();) {
            if (wanted.count(it->first) == 0) {
                failing_.erase(it->first);
                sched_.remove(it->second);
                sites_.erase(it->second);
                it = by_name_.erase(it);
            } else {
                ++it;
            }
        }
        Time t = now();
        for (const auto& s : sites) {
            auto found = by_name_.find(s->name);
            if (found != by_name_.end()) {
                auto& current = sites_.at(found->second);
                if (current->same_as(*s)) {
                    continue;
                }
                if (current->interval == s->interval) {
                    current = s;
                    continue;
                }
                sched_.remove(found->second);
                sites_.erase(found->second);
                by_name_.erase(found);
            }
            auto id = sched_.add(s->interval, stable_hash(s->name), t);
            sites_[id] = s;
            by_name_[s->name] = id;
        }
    }

    void start_due() {
        if (outbox_.full()) {
            // The pipeline is behind: due checks wait rather than pile up results. Slots that
            // pass meanwhile are counted now, once a second, so an outage shows while it lasts.
            auto steady = std::chrono::steady_clock::now();
            if (!once_ && steady >= next_skip_count_) {
                skipped_.inc(sched_.skip_overdue(now()));
                next_skip_count_ = steady + std::chrono::seconds(1);
            }
            return;
        }
        while (active_.size() < max_in_flight_) {
            Time t = now();
            if (once_) {
                if (once_queue_.empty()) {
                    return;
                }
                auto id = once_queue_.front();
                once_queue_.pop_front();
                start(id, t, t);
                continue;
            }
            auto slot = sched_.pop_due(t);
            if (!slot) {
                return;
            }
            skipped_.inc(slot->skipped);
            start(slot->id, slot->scheduled, t);
        }
    }

    void start(Scheduler::SiteId id, Time scheduled, Time t) {
        auto it = sites_.find(id);
        if (it == sites_.end()) {
            return;
        }
        const auto& site = it->second;
        if (running_.count(site->name) > 0) {
            overruns_.inc();
            return;
        }
        Transfer* tr = nullptr;
        if (spare_.empty()) {
            tr = new Transfer();
        } else {
            tr = spare_.back().release();
            spare_.pop_back();
        }
        tr->site = site;
        tr->scheduled = scheduled;
        tr->started = t;
        tr->started_wall = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        CURL* easy = nullptr;
        if (pool_.empty()) {
            easy = curl_easy_init();
        } else {
            easy = pool_.back();
            pool_.pop_back();
        }
        tr->configure(easy);
        running_.insert(site->name);
        active_.insert(tr);
        // Workers share the gauge: each adds its own change to the instance's total.
        in_flight_gauge_.set(static_cast<double>(o_.in_flight_.fetch_add(1) + 1));
        curl_multi_add_handle(multi_, easy);
    }

    void collect() {
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            Transfer* t = nullptr;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
            CURLcode code = m->data.result;
            CURL* easy = m->easy_handle;
            switch (t->next_hop(code)) {
                case Transfer::Next::Follow:
                    curl_multi_remove_handle(multi_, easy);
                    curl_multi_add_handle(multi_, easy);
                    continue;
                case Transfer::Next::TooMany: code = CURLE_TOO_MANY_REDIRECTS; break;
                case Transfer::Next::TimedOut: code = CURLE_OPERATION_TIMEDOUT; break;
                case Transfer::Next::Refused:
                case Transfer::Next::Done: break;
            }
            finish(t, code);
        }
    }

    void finish(Transfer* t, CURLcode code) {
        Outcome out = t->outcome(code);
        double lag_ms = std::chrono::duration<double, std::milli>(t->started - t->scheduled).count();
        ErrorKind kind = ErrorKind::None;
        CheckRecord r = make_record(*t->site, out, t->started_wall, lag_ms, make_check_id(t->started_wall, rng_),
                                    o_.agent_, &kind);
        results_[static_cast<int>(kind)]->inc();
        duration_.observe(r.response_time / 1000.0);
        lag_.observe(std::max(0.0, lag_ms) / 1000.0);
        note(*t->site, r);
        if (pending_.empty()) {
            pending_since_ = std::chrono::steady_clock::now();
        }
        pending_.push_back(Record{std::move(r), {}});
        curl_multi_remove_handle(multi_, t->easy);
        curl_easy_reset(t->easy);
        pool_.push_back(t->easy);
        running_.erase(t->site->name);
        active_.erase(t);
        in_flight_gauge_.set(static_cast<double>(o_.in_flight_.fetch_sub(1) - 1));
        recycle(t);
        if (pending_.size() >= batch_size_) {
            flush(true);
        }
    }

    // Transfers are reused so that a check costs no allocation of its body buffer (and none of
    // the page faults of touching fresh memory); a buffer grown past 256 KiB is given back.
    void recycle(Transfer* t) {
        t->reset();
        if (t->body.capacity() > 256 * 1024) {
            std::string().swap(t->body);
        }
        spare_.emplace_back(t);
    }

    // Each check's failure at debug level (the record carries it); the digest logs a summary
    // at most once a minute. `failing_` knows which sites changed state.
    void note(const Site& site, const CheckRecord& r) {
        if (r.ok.value_or(false)) {
            bool recovered = failing_.erase(site.name) > 0;
            if (recovered) {
                o_.log_.debug("site=\"{}\" url={}: recovered", site.name, site.shown_url);
            }
            o_.digest_.succeeded(recovered);
            return;
        }
        bool started = failing_.insert(site.name).second;
        if (o_.log_.enabled(LogLevel::Debug)) {
            o_.log_.debug("site=\"{}\" url={}: {}: {}", site.name, site.shown_url, r.error.value_or("error"),
                          r.error_detail.value_or(""));
        }
        o_.digest_.failed(site.name, site.shown_url, r.error.value_or("error"), r.error_detail.value_or(""), started);
    }

    void flush(bool force) {
        if (pending_.empty()) {
            return;
        }
        if (!force && std::chrono::steady_clock::now() - pending_since_ < batch_delay_) {
            return;
        }
        Batch b;
        b.records = std::move(pending_);
        pending_ = {};
        outbox_.push(std::move(b));
    }

    struct Offer {
        std::vector<std::shared_ptr<const Site>> sites;
        std::size_t max_in_flight;
        std::size_t batch_size;
        Duration batch_delay;
    };

    HttpCheck& o_;
    Outbox& outbox_;
    const StopToken& stop_;
    bool once_;
    std::size_t max_in_flight_;
    std::size_t batch_size_ = 500;
    Duration batch_delay_ = std::chrono::milliseconds(50);
    std::mutex offer_mutex_;
    std::optional<Offer> offered_;
    std::mt19937_64 rng_;
    Labels labels_;
    Counter& overruns_;
    Counter& skipped_;
    Gauge& in_flight_gauge_;
    Counter* results_[kErrorKinds] = {};
    Histogram& duration_;
    Histogram& lag_;

    std::chrono::steady_clock::time_point steady_start_;
    Time wall_start_{};
    int epoll_ = -1;
    CURLM* multi_ = nullptr;
    std::optional<std::chrono::steady_clock::time_point> curl_deadline_;
    Scheduler sched_;
    std::unordered_map<Scheduler::SiteId, std::shared_ptr<const Site>> sites_;
    std::unordered_map<std::string, Scheduler::SiteId> by_name_;
    std::unordered_set<std::string> running_;
    std::unordered_set<Transfer*> active_;
    std::unordered_set<std::string> failing_;  // sites whose last check failed
    std::chrono::steady_clock::time_point next_digest_tick_{};
    std::vector<CURL*> pool_;
    std::vector<std::unique_ptr<Transfer>> spare_;
    std::deque<Scheduler::SiteId> once_queue_;

    std::vector<Record> pending_;
    std::chrono::steady_clock::time_point pending_since_;
    std::chrono::steady_clock::time_point next_skip_count_{};
};

HttpCheck::HttpCheck(Config config, std::string instance, std::string agent, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), agent_(std::move(agent)), log_(std::move(log)),
      digest_(log_) {}

HttpCheck::~HttpCheck() = default;

std::size_t HttpCheck::worker_of(const std::string& name, std::size_t workers) {
    // The high half of the hash: the low half sets the schedule phase.
    return static_cast<std::size_t>((stable_hash(name) >> 32) % workers);
}

void HttpCheck::offer(const Config& c) {
    std::vector<std::vector<std::shared_ptr<const Site>>> parts(workers_.size());
    for (const auto& s : c.sites) {
        parts[worker_of(s->name, workers_.size())].push_back(s);
    }
    std::size_t per_worker = (c.max_concurrency + workers_.size() - 1) / workers_.size();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->offer(std::move(parts[i]), per_worker, c.batch_size, c.batch_delay);
    }
}

Status HttpCheck::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    // Loading a large site list leaves the heap full of freed YAML nodes; hand that memory back
    // to the system before settling into the steady state.
    ::malloc_trim(0);
    Outbox outbox(out, {{"instance", instance_}}, log_);
    // parse_config makes workers at least 1; no more workers than sites.
    std::size_t n = std::min(config_.workers, std::max<std::size_t>(1, config_.sites.size()));
    {
        std::lock_guard lock(reload_mutex_);
        for (std::size_t i = 0; i < n; ++i) {
            workers_.push_back(std::make_unique<Worker>(*this, outbox, stop, options.once, 1));
        }
        offer(config_);
    }
    log_.info("checking {} sites{} with {} worker{}, at most {} in flight", config_.sites.size(),
              config_.shard.count > 1 ? fmt::format(" (shard {}/{} of {})", config_.shard.index,
                                                    config_.shard.count, config_.sites_total)
                                      : "",
              n, n == 1 ? "" : "s", config_.max_concurrency);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < n; ++i) {
        threads.emplace_back([w = workers_[i].get()] { w->run(); });
    }
    workers_[0]->run();
    for (auto& t : threads) {
        t.join();
    }
    outbox.close();
    digest_.flush();
    std::lock_guard lock(reload_mutex_);
    workers_.clear();
    return Status::success();
}

bool HttpCheck::reload(const ConfigNode& node, Diagnostics& diags) {
    auto next = parse_config(node, diags);
    if (!next) {
        return false;
    }
    std::lock_guard lock(reload_mutex_);
    std::unordered_map<std::string, const Site*> old;
    for (const auto& s : config_.sites) {
        old.emplace(s->name, s.get());
    }
    std::size_t added = 0, changed = 0, kept = 0;
    for (const auto& s : next->sites) {
        auto it = old.find(s->name);
        if (it == old.end()) {
            ++added;
        } else {
            ++(it->second->same_as(*s) ? kept : changed);
            old.erase(it);
        }
    }
    log_.info("reload: {} sites added, {} removed, {} changed, {} unchanged", added, old.size(), changed, kept);
    if (next->workers != config_.workers && !workers_.empty()) {
        log_.warn("reload: a change of workers takes effect at restart");
    }
    next->workers = config_.workers;
    config_ = std::move(*next);
    if (!workers_.empty()) {
        offer(config_);
    }
    return true;
}

}  // namespace vigil::plugins::http_check
