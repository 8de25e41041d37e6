// SPDX-License-Identifier: Apache-2.0
#include "prober.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fmt/core.h>

#include "host_port.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::tls_check {

std::string_view to_string(Failure f) {
    switch (f) {
        case Failure::None: return "ok";
        case Failure::Dns: return "dns";
        case Failure::Connect: return "connect";
        case Failure::Timeout: return "timeout";
        case Failure::Starttls: return "starttls";
        case Failure::Tls: return "tls";
        case Failure::Certificate: return "certificate";
        case Failure::Expiring: return "expiring";
        case Failure::Revoked: return "revoked";
    }
    return "error";
}

std::pair<Failure, std::string> judge_certificate(const Site& site, const CertFacts& facts, Timestamp now) {
    if (!facts.present) {
        return {Failure::Certificate, "the server sent no certificate"};
    }
    if (site.verify && !facts.verify_error.empty()) {
        return {Failure::Certificate, fmt::format("{} (for {})", facts.verify_error, site.name_to_check())};
    }
    if (facts.ocsp == "revoked") {
        return {Failure::Revoked, "the stapled OCSP answer says the certificate is revoked"};
    }
    if (site.min_cert_validity && facts.not_after) {
        auto left = std::chrono::duration_cast<Duration>(*facts.not_after - now);
        if (left < *site.min_cert_validity) {
            return {Failure::Expiring,
                    left <= Duration::zero()
                        ? fmt::format("the certificate expired at {}", format_timestamp(*facts.not_after))
                        : fmt::format("the certificate expires at {}, in {:.1f} days: less than min_cert_validity {}",
                                      format_timestamp(*facts.not_after),
                                      std::chrono::duration<double, std::ratio<86400>>(left).count(),
                                      format_duration(*site.min_cert_validity))};
        }
    }
    return {Failure::None, ""};
}

namespace {
// The most recent OpenSSL error of this thread, one line, and the queue emptied.
std::string openssl_error(const char* otherwise) {
    unsigned long code = ERR_get_error();
    std::string out;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        const char* reason = ERR_reason_error_string(code);
        out = reason != nullptr ? reason : buf;
    }
    ERR_clear_error();
    return out.empty() ? otherwise : out;
}

// OpenSSL writes to the socket with write(), not send(MSG_NOSIGNAL): a server that closes
// mid-handshake would raise SIGPIPE and end the whole agent. Blocked on the prober's thread while
// it runs, the signal stays pending instead (the write fails with EPIPE), and is taken off
// before the thread's mask is restored.
class SigpipeBlocked {
  public:
    SigpipeBlocked() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~SigpipeBlocked() {
        timespec none{};
        while (sigtimedwait(&pipe_, nullptr, &none) == SIGPIPE) {
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlocked(const SigpipeBlocked&) = delete;
    SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

  private:
    sigset_t pipe_{};
    sigset_t old_{};
};

std::string one_line_name(X509_NAME* name) {
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(std::max(n, 0L)));
    BIO_free(bio);
    return escape_controls(out.substr(0, 512));
}

std::optional<Timestamp> not_after_of(X509* cert) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        return std::nullopt;
    }
    auto seconds = timegm(&tm);
    return Timestamp(std::chrono::seconds(seconds));
}

// A stapled OCSP answer's status for the server's certificate, if one was stapled and read.
std::optional<std::string> stapled_status(SSL* ssl) {
    const unsigned char* p = nullptr;
    long len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
    if (len <= 0 || p == nullptr) {
        return std::nullopt;
    }
    OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, len);
    if (resp == nullptr) {
        return std::string("unknown");
    }
    std::string status = "unknown";
    if (OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        if (OCSP_BASICRESP* basic = OCSP_response_get1_basic(resp)) {
            if (OCSP_resp_count(basic) > 0) {
                int reason = 0;
                int s = OCSP_single_get0_status(OCSP_resp_get0(basic, 0), &reason, nullptr, nullptr, nullptr);
                status = s == V_OCSP_CERTSTATUS_GOOD ? "good" : s == V_OCSP_CERTSTATUS_REVOKED ? "revoked" : "unknown";
            }
            OCSP_BASICRESP_free(basic);
        }
    }
    OCSP_RESPONSE_free(resp);
    return status;
}
}  // namespace

// One check of one site, from its start to its record.
struct Prober::Check {
    enum class State { Resolving, Connecting, Dialogue, Handshaking };
    std::shared_ptr<const Site> site;
    State state = State::Resolving;
    int fd = -1;
    checks::Attempt attempt;
    Clock::time_point start{};  // of this attempt
    Clock::time_point handshake_start{};
    std::optional<double> dns_ms;
    std::optional<double> connect_ms;
    std::optional<double> tls_ms;
    std::string address;  // numeric, once known
    std::optional<Dialogue> dialogue;
    std::string out;  // dialogue bytes to write
    std::size_t sent = 0;
    std::string read;  // dialogue bytes read since the last step
    SSL* ssl = nullptr;
    CertFacts facts;
    std::optional<std::string> version, cipher, issuer;
    std::multimap<Clock::time_point, Check*>::iterator deadline;
    std::uint64_t token = 0;  // while resolving
    ~Check() {
        if (ssl != nullptr) {
            SSL_free(ssl);
        }
    }
};

Prober::Prober(Identity id, Logger log, checks::Outbox& outbox, const StopToken& stop, bool once)
    : ProbeLoop("tls",
                {to_string(Failure::None), to_string(Failure::Dns), to_string(Failure::Connect),
                 to_string(Failure::Timeout), to_string(Failure::Starttls), to_string(Failure::Tls),
                 to_string(Failure::Certificate), to_string(Failure::Expiring), to_string(Failure::Revoked)},
                std::move(id), std::move(log), outbox, stop, once),
      duration_(histogram(metric("duration_seconds"), labels_, latency_buckets(), "Check durations (response_time)")) {}

Prober::~Prober() {
    for (auto& [raw, c] : active_) {
        if (c->fd >= 0) {
            ::close(c->fd);
        }
    }
    active_.clear();  // their SSL objects go before their contexts
    for (auto& [key, ctx] : contexts_) {
        SSL_CTX_free(ctx);
    }
}

void Prober::run() {
    SigpipeBlocked quiet;
    ProbeLoop::run();
}

void Prober::on_event(const epoll_event& event) {
    if (event.data.ptr == nullptr) {
        lookups_.take_first([this](Check& c, const std::string& address) { connect(c, address); },
                            [this](Check& c, const std::string& why) { finish(c, Failure::Dns, why); });
        return;
    }
    auto* check = static_cast<Check*>(event.data.ptr);
    if (active_.count(check) == 0) {
        return;  // finished earlier in this round: its fd is closed
    }
    Check& c = *check;
    switch (c.state) {
        case Check::State::Connecting:
            if ((event.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
                connected(c);
            }
            return;
        case Check::State::Dialogue:
            if (c.sent < c.out.size()) {
                write_pending(c);
            } else {
                read_dialogue(c);
            }
            return;
        case Check::State::Handshaking: handshake(c); return;
        case Check::State::Resolving: return;
    }
}

std::optional<Prober::Clock::time_point> Prober::next_deadline() const {
    return deadlines_.empty() ? std::nullopt : std::optional(deadlines_.begin()->first);
}

void Prober::start(const std::shared_ptr<const Site>& site, const checks::Attempt& attempt) {
    if (!begin_attempt(*site, attempt)) {
        return;
    }
    auto owned = std::make_unique<Check>();
    Check& c = *owned;
    c.site = site;
    c.attempt = attempt;
    c.start = Clock::now();
    c.deadline = deadlines_.emplace(c.start + site->timeout, &c);
    active_.emplace(&c, std::move(owned));
    count_in_flight();
    if (checks::is_address(site->target.at.host)) {
        connect(c, site->target.at.host);
        return;
    }
    c.state = Check::State::Resolving;
    std::string why;
    if (!lookups_.submit(epoll_, epoll_data_t{.ptr = nullptr}, c, site->target.at.host, site->ip_family, why)) {
        finish(c, Failure::Dns, why);
    }
}

void Prober::connect(Check& c, const std::string& address) {
    c.address = address;
    sockaddr_storage sa{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        if (c.site->ip_family == IpFamily::V6) {
            finish(c, Failure::Dns, fmt::format("{} is an IPv4 address and ip_family is ipv6", address));
            return;
        }
        v4->sin_family = AF_INET;
        v4->sin_port = htons(c.site->target.at.port);
        len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        if (c.site->ip_family == IpFamily::V4) {
            finish(c, Failure::Dns, fmt::format("{} is an IPv6 address and ip_family is ipv4", address));
            return;
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(c.site->target.at.port);
        len = sizeof(sockaddr_in6);
    } else {
        finish(c, Failure::Dns, fmt::format("\"{}\" is not an address", address));
        return;
    }
    c.fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        finish(c, Failure::Connect, fmt::format("socket: {}", std::strerror(errno)));
        return;
    }
    c.state = Check::State::Connecting;
    int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&sa), len);
    if (rc != 0 && errno != EINPROGRESS) {
        finish(c, Failure::Connect, std::strerror(errno));
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        finish(c, Failure::Connect, fmt::format("cannot watch the socket: {}", std::strerror(errno)));
    }
}

bool Prober::watch(Check& c, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
        finish(c, Failure::Connect, fmt::format("cannot watch the socket: {}", std::strerror(errno)));
        return false;
    }
    return true;
}

void Prober::connected(Check& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (err != 0) {
        finish(c, Failure::Connect, std::strerror(err));
        return;
    }
    c.connect_ms = checks::ms_between(c.start, Clock::now()) - c.dns_ms.value_or(0);
    if (!c.site->protocol) {
        start_tls(c);
        return;
    }
    c.state = Check::State::Dialogue;
    c.dialogue.emplace(*c.site->protocol, c.site->name_to_check());
    c.out = c.dialogue->opening();
    c.sent = 0;
    if (!c.out.empty()) {
        write_pending(c);
    } else {
        watch(c, EPOLLIN | EPOLLRDHUP);
    }
}

void Prober::write_pending(Check& c) {
    while (c.sent < c.out.size()) {
        auto n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(c, EPOLLOUT);
                return;
            }
            finish(c, Failure::Starttls, fmt::format("send: {}", std::strerror(errno)));
            return;
        }
        c.sent += static_cast<std::size_t>(n);
    }
    watch(c, EPOLLIN | EPOLLRDHUP);
}

void Prober::read_dialogue(Check& c) {
    char buf[4096];
    for (;;) {
        std::size_t room = kMaxReply - std::min(kMaxReply, c.read.size());
        // PostgreSQL's answer to SSLRequest is one byte, and what follows it belongs to TLS.
        std::size_t want = c.site->protocol == Protocol::Postgres ? 1 : std::min(room, sizeof buf);
        ssize_t n = want == 0 ? 0 : ::recv(c.fd, buf, want, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == EINTR) {
                continue;
            }
            finish(c, Failure::Starttls, fmt::format("recv: {}", std::strerror(errno)));
            return;
        }
        c.read.append(buf, static_cast<std::size_t>(n));
        auto step = c.dialogue->on_read(c.read, n == 0 && want > 0);
        switch (step.kind) {
            case Dialogue::Step::Kind::Read:
                if (n == 0) {
                    return;  // bounded: on_read failed it at kMaxReply
                }
                continue;
            case Dialogue::Step::Kind::Send:
                c.read.clear();
                c.out = std::move(step.data);
                c.sent = 0;
                write_pending(c);
                return;
            case Dialogue::Step::Kind::Tls: start_tls(c); return;
            case Dialogue::Step::Kind::Fail: finish(c, Failure::Starttls, std::move(step.data)); return;
        }
    }
}

ssl_ctx_st* Prober::context_for(const Site& site, std::string& why) {
    auto key = fmt::format("{}|{}", site.ca_file ? site.ca_file->string() : "", static_cast<int>(site.min_version));
    if (auto it = contexts_.find(key); it != contexts_.end()) {
        return it->second;
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        why = "cannot make a TLS context: " + openssl_error("out of memory");
        return nullptr;
    }
    static const int kVersions[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
    SSL_CTX_set_min_proto_version(ctx, kVersions[static_cast<int>(site.min_version)]);
    if (site.min_version < TlsVersion::Tls12) {
        SSL_CTX_set_security_level(ctx, 0);  // TLS 1.0 and 1.1 asked for: OpenSSL 3 refuses them at level 1
    }
    // Verification never stops the handshake: its result is read after it, so a bad certificate
    // is reported with what it says (issuer, expiry) rather than as a failed handshake.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    int ok = site.ca_file ? SSL_CTX_load_verify_locations(ctx, site.ca_file->c_str(), nullptr)
                          : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        why = fmt::format("cannot load {}: {}", site.ca_file ? site.ca_file->string() : "the system's CA store",
                          openssl_error("no certificate in it"));
        SSL_CTX_free(ctx);
        return nullptr;
    }
    contexts_.emplace(key, ctx);
    return ctx;
}

void Prober::start_tls(Check& c) {
    std::string why;
    SSL_CTX* ctx = context_for(*c.site, why);
    if (ctx == nullptr) {
        finish(c, Failure::Tls, why);
        return;
    }
    c.ssl = SSL_new(ctx);
    if (c.ssl == nullptr || SSL_set_fd(c.ssl, c.fd) != 1) {
        finish(c, Failure::Tls, "cannot start TLS: " + openssl_error("out of memory"));
        return;
    }
    const std::string& name = c.site->name_to_check();
    X509_VERIFY_PARAM* param = SSL_get0_param(c.ssl);
    if (checks::is_address(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
        SSL_set_tlsext_host_name(c.ssl, name.c_str());
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    SSL_set_tlsext_status_type(c.ssl, TLSEXT_STATUSTYPE_ocsp);
    SSL_set_connect_state(c.ssl);
    c.state = Check::State::Handshaking;
    c.handshake_start = Clock::now();
    handshake(c);
}

void Prober::handshake(Check& c) {
    ERR_clear_error();
    int rc = SSL_do_handshake(c.ssl);
    if (rc == 1) {
        handshaken(c);
        return;
    }
    switch (SSL_get_error(c.ssl, rc)) {
        case SSL_ERROR_WANT_READ: watch(c, EPOLLIN); return;
        case SSL_ERROR_WANT_WRITE: watch(c, EPOLLOUT); return;
        case SSL_ERROR_SYSCALL:
        case SSL_ERROR_ZERO_RETURN:
            finish(c, Failure::Tls,
                   "handshake failed: " +
                       openssl_error(errno != 0 ? std::strerror(errno) : "the server closed the connection"));
            return;
        default: finish(c, Failure::Tls, "handshake failed: " + openssl_error("unknown error")); return;
    }
}

void Prober::handshaken(Check& c) {
    c.tls_ms = checks::ms_between(c.handshake_start, Clock::now());
    c.version = SSL_get_version(c.ssl);
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(c.ssl)) {
        c.cipher = SSL_CIPHER_get_name(cipher);
    }
    if (X509* cert = SSL_get1_peer_certificate(c.ssl)) {
        c.facts.present = true;
        c.facts.not_after = not_after_of(cert);
        c.issuer = one_line_name(X509_get_issuer_name(cert));
        X509_free(cert);
        long result = SSL_get_verify_result(c.ssl);
        if (result != X509_V_OK) {
            c.facts.verify_error = X509_verify_cert_error_string(result);
        }
    }
    c.facts.ocsp = stapled_status(c.ssl);
    auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
    auto [failure, detail] = judge_certificate(*c.site, c.facts, now);
    finish(c, failure, std::move(detail));
}

void Prober::after_events() {
    auto steady = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= steady) {
        Check& c = *deadlines_.begin()->second;
        const char* phase = c.state == Check::State::Resolving    ? "resolving the host"
                            : c.state == Check::State::Connecting ? "connecting"
                            : c.state == Check::State::Dialogue   ? "the STARTTLS dialogue"
                                                                  : "the TLS handshake";
        finish(c, Failure::Timeout, fmt::format("{} took longer than {}", phase, format_duration(c.site->timeout)));
    }
}

void Prober::finish(Check& c, Failure failure, std::string detail) {
    const Site& site = *c.site;
    auto end = Clock::now();
    if (retry(c.site, c.attempt, failure != Failure::None)) {
        end_attempt(c);
        return;
    }
    auto r = record_of(site, c.attempt, checks::ms_between(c.start, end));
    r.ok = failure == Failure::None;
    if (failure != Failure::None) {
        r.error = std::string(to_string(failure));
        r.error_detail = std::move(detail);
    }
    r.dns_ms = c.dns_ms;
    r.connect_ms = c.connect_ms;
    if (!c.address.empty()) {
        r.remote_ip = c.address;
    }
    r.tls_ms = c.tls_ms;
    r.tls_not_after = c.facts.not_after;
    r.tls_version = c.version;
    r.tls_cipher = c.cipher;
    r.tls_issuer = c.issuer;
    r.ocsp_status = c.facts.ocsp;

    duration_.observe(r.response_time / 1000.0);
    emit(std::move(r), site, static_cast<std::size_t>(failure));
    end_attempt(c);
}

void Prober::end_attempt(Check& c) {
    if (c.fd >= 0) {
        ::close(c.fd);  // leaves the epoll set with it
    }
    lookups_.cancel(c);
    deadlines_.erase(c.deadline);
    active_.erase(&c);
    count_in_flight();
}

}  // namespace vigil::plugins::tls_check
