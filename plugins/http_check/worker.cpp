// SPDX-License-Identifier: Apache-2.0
#include "worker.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "check_id.hpp"
#include "pacer.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

using checks::make_check_id;
using checks::seeded_rng;

namespace {
constexpr auto kStopPoll = std::chrono::milliseconds(100);
constexpr int kEventsPerWait = 256;
}  // namespace

Worker::Worker(WorkerShared& shared, Outbox& outbox, const StopToken& stop, bool once, std::size_t max_in_flight)
    : shared_(shared), outbox_(outbox), stop_(stop), once_(once), max_in_flight_(max_in_flight),
      rng_(seeded_rng()), labels_{{"instance", shared.instance}},
      overruns_(counter("vigil_http_check_overruns_total", labels_,
                        "Slots skipped because the previous check of the site was still running")),
      skipped_(counter("vigil_http_check_skipped_slots_total", labels_,
                       "Slots skipped because checks started more than an interval late (the pipeline was "
                       "full, or the host too busy), counted as each slot passes")),
      in_flight_gauge_(gauge("vigil_http_check_in_flight", labels_, "Checks in flight")),
      duration_(histogram("vigil_http_check_duration_seconds", labels_, latency_buckets(),
                          "Check durations (response_time), redirects included")),
      lag_(histogram("vigil_http_check_lag_seconds", labels_, latency_buckets(),
                     "How late checks started against their schedule")),
      failing_(shared.digest, shared.log) {
    for (auto k : kErrorKindList) {
        Labels l = labels_;
        l.emplace_back("result", k == ErrorKind::None ? "ok" : std::string(to_string(k)));
        results_[static_cast<std::size_t>(k)] =
            &counter("vigil_http_check_checks_total", l, "Checks finished, by result");
    }
    steady_start_ = std::chrono::steady_clock::now();
    wall_start_ = std::chrono::duration_cast<Time>(std::chrono::system_clock::now().time_since_epoch());
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
        throw std::runtime_error(fmt::format("epoll_create1: {}", std::strerror(errno)));
    }
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
        ::close(epoll_);
        throw std::runtime_error("curl_multi_init failed (out of memory?)");
    }
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

Worker::~Worker() {
    set_in_flight(-static_cast<std::int64_t>(active_.size()));
    for (auto& [raw, t] : active_) {
        if (t->easy != nullptr) {  // a check resolving has none; one waiting to retry is not in multi_
            curl_multi_remove_handle(multi_, t->easy);
            curl_easy_cleanup(t->easy);
        }
    }
    active_.clear();
    for (CURL* e : pool_) {
        curl_easy_cleanup(e);
    }
    curl_multi_cleanup(multi_);
    ::close(epoll_);
}

std::uint64_t Worker::offer(std::vector<std::shared_ptr<const Site>> sites, std::size_t max_in_flight,
                            std::size_t batch_size, Duration batch_delay) {
    Lock lock(offer_mutex_);
    offered_ = Offer{std::move(sites), max_in_flight, batch_size, batch_delay, ++offers_};
    return offers_;
}

void Worker::run() {
    take_offer();
    if (once_) {
        for (auto id : sites_.ids()) {
            once_queue_.push_back(id);
        }
    }
    epoll_event events[kEventsPerWait];
    while (!stop_.stop_requested()) {
        take_offer();
        start_due();
        int wait = wait_ms();
        int n = epoll_wait(epoll_, events, kEventsPerWait, wait);
        int running = 0;
        for (int i = 0; i < n; ++i) {
            if (resolver_ && events[i].data.fd == resolver_->fd()) {
                resolved();
                continue;
            }
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
        start_retries();
        batcher_.flush(outbox_, false);
        if (auto steady = std::chrono::steady_clock::now(); steady >= next_digest_tick_) {
            shared_.digest.tick(steady);
            next_digest_tick_ = steady + std::chrono::seconds(1);
        }
        if (once_ && once_queue_.empty() && active_.empty()) {
            break;
        }
    }
    if (!active_.empty()) {
        shared_.log.info("stopping: abandoning {} checks in flight", active_.size());
    }
    batcher_.flush(outbox_, true);
}

int Worker::on_socket(CURL*, curl_socket_t fd, int what, void* user, void* known) {
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

int Worker::on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<Worker*>(user);
    if (timeout_ms < 0) {
        self->curl_deadline_.reset();
    } else {
        self->curl_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
}

int Worker::wait_ms() {
    auto steady = std::chrono::steady_clock::now();
    auto until = [&](auto at) { return std::optional<std::chrono::nanoseconds>(at - steady); };
    std::optional<std::chrono::nanoseconds> due;
    if (!once_ && !outbox_.full() && active_.size() < max_in_flight_) {
        if (auto next = sites_.scheduler().next_due()) {
            due = *next - now();
        }
    }
    return checks::wait_ms(
        kStopPoll, {curl_deadline_ ? until(*curl_deadline_) : std::nullopt, due, retries_.due_in(), batcher_.due_in()});
}

void Worker::take_offer() {
    std::optional<Offer> next;
    {
        Lock lock(offer_mutex_);
        next.swap(offered_);
    }
    if (next) {
        max_in_flight_ = next->max_in_flight;
        batcher_.set_limits(next->batch_size, next->batch_delay);
        // A reload keeps the schedule of unchanged sites (lib/checks' SiteTable).
        sites_.apply(next->sites, now(), [this](const std::string& name) { failing_.forget(name); });
        {
            Lock lock(shared_.applied_mutex);
            applied_ = next->number;
        }
        shared_.applied.notify_all();
    }
}

void Worker::start_due() {
    if (outbox_.full()) {
        // The pipeline is behind: due checks wait rather than pile up results. Slots that
        // pass meanwhile are counted now, once a second, so an outage shows while it lasts.
        auto steady = std::chrono::steady_clock::now();
        if (!once_ && steady >= next_skip_count_) {
            skipped_.inc(sites_.scheduler().skip_overdue(now()));
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
        auto slot = sites_.scheduler().pop_due(t);
        if (!slot) {
            return;
        }
        skipped_.inc(slot->skipped);
        start(slot->id, slot->scheduled, t);
    }
}

void Worker::start(Scheduler::SiteId id, Time scheduled, Time t) {
    auto site = sites_.find(id);
    if (!site) {
        return;
    }
    if (running_.count(site->name) > 0) {
        overruns_.inc();
        return;
    }
    Transfer* tr = adopt(site, scheduled, t);
    tr->started_wall = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    if (site->ip_mode == IpMode::All) {
        resolve(tr);
    } else {
        launch(tr);
    }
}

// A transfer for one check of `site`, counted in flight from now until release().
Transfer* Worker::adopt(const std::shared_ptr<const Site>& site, Time scheduled, Time t) {
    std::unique_ptr<Transfer> tr;
    if (spare_.empty()) {
        tr = std::make_unique<Transfer>();
    } else {
        tr = std::move(spare_.back());
        spare_.pop_back();
    }
    tr->site = site;
    tr->scheduled = scheduled;
    tr->started = t;
    ++running_[site->name];
    Transfer* raw = tr.get();
    active_.emplace(raw, std::move(tr));
    set_in_flight(1);
    return raw;
}

// Hands the check to curl, on an easy handle of its own (kept across its retries).
void Worker::launch(Transfer* t) {
    if (t->easy == nullptr) {
        if (pool_.empty()) {
            t->easy = curl_easy_init();
            if (t->easy == nullptr) {
                release(t);  // out of memory: the slot is skipped, the next one tries again
                return;
            }
        } else {
            t->easy = pool_.back();
            pool_.pop_back();
        }
    }
    t->configure(t->easy);
    add(t);
}

bool Worker::add(Transfer* t) {
    if (auto rc = system_calls().add_handle(multi_, t->easy); rc != CURLM_OK) {
        // Not curl's: the check fails now (and retries, if it may) instead of waiting forever
        // for a transfer that never started, its site skipped as an overrun at every later slot.
        Outcome out;
        out.code = CURLE_FAILED_INIT;
        out.curl_error = fmt::format("cannot start the check: {}", curl_multi_strerror(rc));
        completed(t, std::move(out));
        return false;
    }
    return true;
}

void Worker::start_retries() {
    retries_.start_due([this](Transfer* t) {
        if (t->site->ip_mode == IpMode::All && t->connect_to.empty()) {
            resolve(t);  // the name did not resolve: try that again
        } else {
            launch(t);
        }
    });
}

void Worker::collect() {
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
                add(t);
                continue;
            case Transfer::Next::TooMany: code = CURLE_TOO_MANY_REDIRECTS; break;
            case Transfer::Next::TimedOut: code = CURLE_OPERATION_TIMEDOUT; break;
            case Transfer::Next::Refused:
            case Transfer::Next::Done: break;
        }
        completed(t, t->outcome(code));
    }
}

// A failed attempt with retries left waits retry_delay and goes again (the slot and start time
// stay the first attempt's); anything else becomes the check's record.
void Worker::completed(Transfer* t, Outcome out) {
    out.attempts = t->attempt;
    double lag_ms = std::chrono::duration<double, std::milli>(t->started - t->scheduled).count();
    ErrorKind kind = ErrorKind::None;
    CheckRecord r =
        make_record(*t->site, out, t->started_wall, lag_ms, make_check_id(t->started_wall, rng_), shared_.agent, &kind);
    r.location = shared_.location;
    if (checks::retry_left(t->attempt, t->site->retries, kind != ErrorKind::None, stop_.stop_requested())) {
        if (t->easy != nullptr) {
            curl_multi_remove_handle(multi_, t->easy);
            reset_handle(t->easy);
        }
        ++t->attempt;
        t->rearm();
        retries_.wait(t->site->retry_delay, t);
        return;
    }
    results_[static_cast<std::size_t>(kind)]->inc();
    duration_.observe(r.response_time / 1000.0);
    lag_.observe(std::max(0.0, lag_ms) / 1000.0);
    // Each failure at debug level (the record carries it); the digest logs a summary at most
    // once a minute, and hears which sites started failing or recovered.
    failing_.note(t->site->name, t->site->shown_url, r.ok.value_or(false), r.error.value_or("error"),
                  r.error_detail.value_or(""));
    batcher_.add(std::move(r), outbox_);
    release(t);
}

void Worker::release(Transfer* t) {
    if (t->easy != nullptr) {
        curl_multi_remove_handle(multi_, t->easy);
        reset_handle(t->easy);
        pool_.push_back(t->easy);
    }
    if (auto r = running_.find(t->site->name); r != running_.end() && --r->second <= 0) {
        running_.erase(r);
    }
    auto owned = active_.extract(t);
    set_in_flight(-1);
    recycle(std::move(owned.mapped()));
}

// Transfers are reused so that a check costs no allocation of its body buffer (and none of
// the page faults of touching fresh memory); a buffer grown past 256 KiB is given back.
void Worker::recycle(std::unique_ptr<Transfer> t) {
    t->reset();
    if (t->body.capacity() > 256 * 1024) {
        std::string().swap(t->body);
    }
    spare_.push_back(std::move(t));
}

// Workers share the gauge: each adds its own change to the instance's total.
void Worker::set_in_flight(std::int64_t change) {
    in_flight_gauge_.set(static_cast<double>(shared_.in_flight.fetch_add(change) + change));
}

}  // namespace vigil::plugins::http_check
