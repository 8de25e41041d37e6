// SPDX-License-Identifier: Apache-2.0
#include "prober.hpp"

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

#include <fmt/core.h>

#include "vigil/text.hpp"

namespace vigil::plugins::dns_check {

namespace {
// How often c-ares looks at its own timeouts: our deadlines record a timeout on time; this only
// frees c-ares' part of a query that never got an answer.
constexpr auto kAresTick = std::chrono::milliseconds(100);
// c-ares' own limit sits a little past the check's, so the check's deadline is what records.
constexpr auto kAresSlack = std::chrono::milliseconds(200);
constexpr int kReceiveBuffer = 8 << 20;

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
            throw std::runtime_error(fmt::format("c-ares: {}", ares_strerror(rc)));
        }
    });
}

// The first server c-ares asks on `channel`, for the record's remote_ip.
std::string first_server(ares_channel channel) {
    ares_addr_port_node* servers = nullptr;
    std::string out;
    if (ares_get_servers_ports(channel, &servers) == ARES_SUCCESS && servers != nullptr) {
        char text[INET6_ADDRSTRLEN] = {};
        if (ares_inet_ntop(servers->family, &servers->addr, text, sizeof text) != nullptr) {
            out = text;
        }
    }
    ares_free_data(servers);
    return out;
}
}  // namespace

// A c-ares channel: the servers of one kind of site (server, transport, timeout) and their sockets.
struct Prober::Channel {
    Prober* self = nullptr;
    ares_channel ares = nullptr;
    std::string asked;                      // the server as sites write it: channels_' key holds a view of it
    std::string server;                     // numeric, for remote_ip
    std::unordered_set<std::uint16_t> ids;  // of the queries c-ares holds
    ~Channel() {
        if (ares != nullptr) {
            ares_destroy(ares);
        }
    }
};

// One check of one site, from its start to its record.
struct Prober::Check {
    Prober* self = nullptr;
    std::shared_ptr<const Site> site;
    Channel* channel = nullptr;
    checks::Attempt attempt;
    Clock::time_point start{};  // of this attempt
    std::multimap<Clock::time_point, Check*>::iterator deadline;
    bool ended = false;    // recorded, or gone to retry: a late answer from c-ares is dropped
    bool in_ares = false;  // c-ares holds its query and will call back
    std::uint16_t id = 0;  // the query's, unique on its channel while c-ares holds it
};

Prober::Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once)
    : ProbeLoop("dns",
                {to_string(Failure::None), to_string(Failure::Timeout), to_string(Failure::Connect),
                 to_string(Failure::Malformed), to_string(Failure::Rcode), to_string(Failure::Answer),
                 to_string(Failure::Expect)},
                std::move(id), std::move(log), outbox, stop, once),
      duration_(histogram(metric("duration_seconds"), labels_, latency_buckets(), "Check durations (response_time)")) {
    init_library();
}

Prober::~Prober() {
    destroying_ = true;
    channels_.clear();  // c-ares calls back each query it held, and closes its sockets
}

void Prober::on_event(const epoll_event& event) {
    int fd = event.data.fd;
    auto it = sockets_.find(fd);
    if (it == sockets_.end()) {
        return;  // closed by c-ares earlier in this round
    }
    bool in = (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
    bool out = (event.events & EPOLLOUT) != 0;
    ares_process_fd(it->second->ares, in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
}

void Prober::after_events() {
    auto steady = Clock::now();
    if (steady >= next_ares_tick_) {
        for (auto& [key, ch] : channels_) {
            if (!ch->ids.empty()) {
                ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // its timeouts
            }
        }
        next_ares_tick_ = steady + kAresTick;
    }
    steady = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= steady) {
        Check& c = *deadlines_.begin()->second;
        finish(c, Failure::Timeout, fmt::format("no answer within {}", format_duration(c.site->timeout)));
    }
}

std::optional<Prober::Clock::time_point> Prober::next_deadline() const {
    return deadlines_.empty() ? std::nullopt : std::optional(deadlines_.begin()->first);
}

void Prober::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* ch = static_cast<Channel*>(data);
    ch->self->watch(*ch, fd, readable != 0, writable != 0);
}

void Prober::watch(Channel& ch, int fd, bool readable, bool writable) {
    if (!readable && !writable) {
        epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // c-ares closes it next
        sockets_.erase(fd);
        return;
    }
    epoll_event ev{};
    ev.events = (readable ? EPOLLIN : 0U) | (writable ? EPOLLOUT : 0U);
    ev.data.fd = fd;
    bool known = sockets_.count(fd) > 0;
    if (epoll_ctl(epoll_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
        log_.warn("cannot watch a socket of c-ares: {}", std::strerror(errno));
        return;
    }
    sockets_[fd] = &ch;
}

// The channel that asks `site`'s server the way the site wants it asked; made at first use.
Prober::Channel* Prober::channel_for(const Site& site, std::string& why) {
    const auto& t = site.target;
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(site.timeout + kAresSlack);
    if (auto known = channels_.find(ChannelKey{t.server, t.port, site.transport, limit.count()});
        known != channels_.end()) {
        return known->second.get();
    }
    auto ch = std::make_unique<Channel>();
    ch->self = this;
    ch->asked = t.server;
    ares_options o{};
    // NOCHECKRESP: a SERVFAIL or REFUSED answer is the check's result, not a cue to ask elsewhere.
    o.flags = ARES_FLAG_NOCHECKRESP | (site.transport == Transport::Tcp ? ARES_FLAG_USEVC : 0);
    o.timeout = static_cast<int>(std::min<std::int64_t>(limit.count(), 1 << 30));
    o.tries = 1;  // one query per check: a lost answer is a timeout, as blackbox_exporter counts it
    o.sock_state_cb = &Prober::on_socket_state;
    o.sock_state_cb_data = ch.get();
    // One UDP socket takes every answer to this server: hundreds arriving together overflow the
    // default receive buffer (~200 datagrams), and an answer the kernel drops is a false timeout.
    // The kernel caps this at net.core.rmem_max.
    o.socket_receive_buffer_size = kReceiveBuffer;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF;
    if (int rc = ares_init_options(&ch->ares, &o, mask); rc != ARES_SUCCESS) {
        ch->ares = nullptr;
        why = fmt::format("cannot start c-ares: {}", ares_strerror(rc));
        return nullptr;
    }
    if (!t.server.empty()) {
        auto csv = t.server.find(':') != std::string::npos ? fmt::format("[{}]:{}", t.server, t.port)
                                                           : fmt::format("{}:{}", t.server, t.port);
        if (int rc = ares_set_servers_ports_csv(ch->ares, csv.c_str()); rc != ARES_SUCCESS) {
            why = fmt::format("cannot use server {}: {}", csv, ares_strerror(rc));
            return nullptr;
        }
    }
    ch->server = first_server(ch->ares);
    auto* made = ch.get();
    channels_.emplace(ChannelKey{made->asked, t.port, site.transport, limit.count()}, std::move(ch));
    return made;
}

void Prober::start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) {
    if (!begin_attempt(*site, attempt)) {
        return;
    }
    auto owned = std::make_unique<Check>();
    Check& c = *owned;
    c.self = this;
    c.site = site;
    c.attempt = attempt;
    c.start = Clock::now();
    c.deadline = deadlines_.emplace(c.start + site->timeout, &c);
    active_.emplace(&c, std::move(owned));
    count_in_flight();

    std::string why;
    c.channel = channel_for(*site, why);
    if (c.channel == nullptr) {
        finish(c, Failure::Connect, why);
        return;
    }
    // c-ares 1.18's ares_send keeps the id the query carries, and gives an answer to the first
    // query it holds with that id and question: each query gets a random id of its own, unique
    // on the channel. With one id for all, a retry sent while c-ares still held the timed-out
    // attempt had its answer taken by that attempt, and an off-path forger needed only the port.
    if (c.channel->ids.size() > 0xffff) {
        finish(c, Failure::Connect, "65,536 queries to this server are in flight already (a DNS id has 16 bits)");
        return;
    }
    std::uint16_t id = 0;
    do {
        id = static_cast<std::uint16_t>(rng_());
    } while (!c.channel->ids.insert(id).second);
    c.id = id;
    unsigned char* query = nullptr;
    int size = 0;
    int rc = ares_create_query(site->target.name.c_str(), 1 /* IN */, site->target.qtype, id, site->recursion ? 1 : 0,
                               &query, &size, 0);
    if (rc != ARES_SUCCESS) {
        c.channel->ids.erase(id);
        finish(c, Failure::Malformed, fmt::format("cannot write the query: {}", ares_strerror(rc)));
        return;
    }
    c.in_ares = true;
    ares_send(c.channel->ares, query, size, &Prober::on_answer, &c);  // may call back at once
    ares_free_string(query);
}

void Prober::on_answer(void* arg, int status, int /*timeouts*/, unsigned char* data, int size) {
    auto* c = static_cast<Check*>(arg);
    c->self->answered(*c, status, data, size);
}

void Prober::answered(Check& c, int status, const unsigned char* data, int size) {
    c.channel->ids.erase(c.id);
    c.in_ares = false;
    if (c.ended || destroying_) {
        abandoned_.erase(&c);  // it ended (a timeout), or nothing is recorded any more
        return;
    }
    switch (status) {
        case ARES_SUCCESS: break;
        case ARES_ETIMEOUT:
            finish(c, Failure::Timeout, fmt::format("no answer within {}", format_duration(c.site->timeout)));
            return;
        case ARES_ECONNREFUSED:
            finish(c, Failure::Connect,
                   fmt::format("{} refused the query (nothing listens there)",
                               c.channel->server.empty() ? "the server" : c.channel->server));
            return;
        case ARES_EBADRESP:
            finish(c, Failure::Malformed, "the answer is not a DNS message (c-ares could not read it)");
            return;
        default: finish(c, Failure::Connect, ares_strerror(status)); return;
    }
    std::string why;
    auto answer = read_answer(data, static_cast<std::size_t>(std::max(size, 0)), c.site->target.qtype, why);
    if (!answer) {
        finish(c, Failure::Malformed, why);
        return;
    }
    auto [failure, detail] = judge(*c.site, *answer);
    finish(c, failure, std::move(detail), &*answer);
}

void Prober::finish(Check& c, Failure failure, std::string detail, const Answer* answer) {
    const Site& site = *c.site;
    auto end = Clock::now();
    if (retry(c.site, c.attempt, failure != Failure::None)) {
        end_attempt(c);
        return;
    }
    auto r = record_of(site, c.attempt, checks::ms_between(c.start, end));
    r.regex = site.expect_text;
    if (site.expect && (failure == Failure::None || failure == Failure::Expect)) {
        r.regex_check = failure == Failure::None;
    }
    r.ok = failure == Failure::None;
    if (failure != Failure::None) {
        r.error = std::string(to_string(failure));
        r.error_detail = std::move(detail);
    }
    if (c.channel != nullptr && !c.channel->server.empty()) {
        r.remote_ip = c.channel->server;
    }
    if (answer != nullptr) {
        r.rcode = answer->rcode;
        r.answers = joined(answer->records);
    }

    duration_.observe(r.response_time / 1000.0);
    emit(std::move(r), site, static_cast<std::size_t>(failure));
    end_attempt(c);
}

void Prober::end_attempt(Check& c) {
    c.ended = true;
    deadlines_.erase(c.deadline);
    auto it = active_.find(&c);
    if (it != active_.end()) {
        if (c.in_ares) {  // timed out: kept until c-ares lets go of its query
            abandoned_.emplace(&c, std::move(it->second));
        }
        active_.erase(it);
    }
    count_in_flight();
}

}  // namespace vigil::plugins::dns_check
