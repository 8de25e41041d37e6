// SPDX-License-Identifier: Apache-2.0
#include "transfer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <strings.h>

#include <fmt/core.h>

#include "vigil/redact.hpp"

namespace vigil::plugins::http_check {

namespace {

// Keeps at most max_body bytes; returning less than offered makes curl stop the transfer
// (CURLE_WRITE_ERROR), which result.cpp reads as a cut, not a failure.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const Site& s = *t->site;
    std::size_t len = size * n;
    std::uint64_t room = s.max_body - std::min<std::uint64_t>(s.max_body, t->received);
    // Only what a pattern, a JSON assertion or the excerpt reads is kept; the rest is counted.
    std::uint64_t kept = s.body_kept();
    auto keep = [&](std::uint64_t offered) {
        auto take = std::min<std::uint64_t>(offered, kept - std::min<std::uint64_t>(kept, t->body.size()));
        t->body.append(data, static_cast<std::size_t>(take));
    };
    t->received += len;
    if (len > room) {
        keep(room);
        t->truncated = true;
        return 0;
    }
    keep(len);
    return len;
}

double ms(CURL* easy, CURLINFO info) {
    curl_off_t us = 0;
    curl_easy_getinfo(easy, info, &us);
    return static_cast<double>(us) / 1000.0;
}

// Phase durations are differences of microsecond counts: keep them whole microseconds, so
// 1.078 does not print as 1.0779999999999999.
double whole_us(double ms_value) { return std::round(ms_value * 1000.0) / 1000.0; }

bool starts_with_nocase(const std::string& s, const char* prefix) {
    return strncasecmp(s.c_str(), prefix, std::strlen(prefix)) == 0;
}

}  // namespace

Transfer::~Transfer() {
    curl_slist_free_all(headers);
    curl_slist_free_all(bare);
    curl_slist_free_all(connect_to_list);
}

void reset_handle(CURL* easy) {
    // libcurl 7.88's curl_easy_reset forgets, without freeing, the list CURLOPT_COOKIEFILE built
    // (LeakSanitizer: one per check); setting it to NULL frees it first.
    curl_easy_setopt(easy, CURLOPT_COOKIEFILE, nullptr);
    curl_easy_reset(easy);
}

void Transfer::rearm() {
    body.clear();
    received = 0;
    truncated = false;
    curl_slist_free_all(headers);
    headers = nullptr;
    curl_slist_free_all(bare);
    bare = nullptr;
    curl_slist_free_all(connect_to_list);
    connect_to_list = nullptr;
    errbuf[0] = '\0';
    hops = 0;
    earlier_ms = 0;
    raw_body = false;
    refused.clear();
}

void Transfer::reset() {
    rearm();
    easy = nullptr;
    site.reset();
    url.clear();
    attempt = 1;
    connect_to.clear();
    resolve_ms = -1;
}

// The site's credentials go to its own origin only: a redirect elsewhere gets none of them.
void Transfer::credentials(bool send) {
    const Site& s = *site;
    if (!s.basic_user.empty()) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(easy, CURLOPT_USERNAME, send ? s.basic_user.c_str() : nullptr);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, send ? s.basic_password.c_str() : nullptr);
    }
    if (!s.bearer_token.empty()) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BEARER));
        curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, send ? s.bearer_token.c_str() : nullptr);
    }
    if (!s.client_cert_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, send ? s.client_cert_file.c_str() : nullptr);
        curl_easy_setopt(easy, CURLOPT_SSLKEY, send ? s.client_key_file.c_str() : nullptr);
    }
}

void Transfer::configure(CURL* handle) {
    easy = handle;
    const Site& s = *site;
    url = s.url;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout).count();
    // Bounds the whole check, connect and redirects included.
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, timeout_ms)));
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // next_hop() follows
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, s.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, s.verify_tls ? 2L : 0L);
    if (!s.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, s.ca_file.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_IPRESOLVE,
                     s.ip_family == IpFamily::V4   ? CURL_IPRESOLVE_V4
                     : s.ip_family == IpFamily::V6 ? CURL_IPRESOLVE_V6
                                                   : CURL_IPRESOLVE_WHATEVER);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, s.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
    // A cookie set by one hop of a redirect chain goes to the next hop of the same check, as a
    // browser (and blackbox_exporter's cookie jar) does. The handle is reused by later checks of
    // any site and curl_easy_reset keeps cookies: each check starts with none.
    curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "ALL");
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    if (s.url.compare(0, 8, "https://") == 0) {
        curl_easy_setopt(easy, CURLOPT_CERTINFO, 1L);
    }
    bool has_connection = false;
    for (const auto& [k, v] : s.headers) {
        headers = curl_slist_append(headers, fmt::format("{}: {}", k, v).c_str());
        has_connection = has_connection || strcasecmp(k.c_str(), "Connection") == 0;
    }
    // Each check uses its connection once: say so, so the server closes it after the response
    // instead of holding an idle keep-alive slot for us until we hang up.
    if (!has_connection) {
        headers = curl_slist_append(headers, "Connection: close");
        bare = curl_slist_append(bare, "Connection: close");
    }
    if (headers != nullptr) {
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    }
    if (s.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (s.method != "GET") {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, s.method.c_str());
    }
    if (s.body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body->size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, s.body->data());
    }
    if (s.keeps_body()) {
        body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(s.body_kept(), 16 * 1024)));
    }
    credentials(true);
    if (s.proxy) {
        curl_easy_setopt(easy, CURLOPT_PROXY, s.proxy->c_str());  // "" turns the environment's off
    }
    if (!s.no_proxy.empty()) {
        curl_easy_setopt(easy, CURLOPT_NOPROXY, s.no_proxy.c_str());
    }
    switch (s.http_version) {
        case HttpVersion::Auto: break;
        case HttpVersion::Http11: curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1); break;
        // ALPN over TLS, an h2c upgrade over plain http: a server that answers in 1.1 fails the
        // check (result.cpp), which is the point of asking.
        case HttpVersion::Http2: curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_0); break;
        case HttpVersion::Http3: curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_3ONLY); break;
    }
    if (!s.bind.empty()) {
        curl_easy_setopt(easy, CURLOPT_INTERFACE, s.bind.c_str());
    }
    if (!connect_to.empty()) {
        curl_slist_free_all(connect_to_list);
        connect_to_list = curl_slist_append(nullptr, connect_to.c_str());
        curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to_list);
    }
}

Transfer::Next Transfer::next_hop(CURLcode code) {
    const Site& s = *site;
    if (code == CURLE_BAD_CONTENT_ENCODING && !raw_body) {
        // A Content-Encoding libcurl cannot decode: a browser shows such a body as it came, so
        // the same request goes again with decoding off (its time counts, as a redirect's does).
        if (!charge_hop("asking again without decoding")) {
            return Next::TimedOut;
        }
        raw_body = true;
        curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
        return Next::Follow;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    char* location = nullptr;
    if (code != CURLE_OK || !s.follow_redirects || !redirect ||
        curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || location == nullptr) {
        return Next::Done;
    }
    std::string target = location;
    if (hops >= s.max_redirects) {
        std::snprintf(errbuf, sizeof errbuf, "Maximum (%ld) redirects followed", s.max_redirects);
        return Next::TooMany;
    }
    if (!starts_with_nocase(target, "http://") && !starts_with_nocase(target, "https://")) {
        refused = fmt::format("{} to {}: not http:// or https://", status, redact_url(target));
        return Next::Refused;
    }
    if (starts_with_nocase(url, "https://") && starts_with_nocase(target, "http://") && !s.allow_downgrade) {
        refused = fmt::format("{} from https to {}: a downgrade to plain http (allow_downgrade: false)", status,
                              redact_url(target));
        return Next::Refused;
    }
    if (!charge_hop("following redirects")) {
        return Next::TimedOut;
    }
    ++hops;
    bool same_origin = origin_of(target) == s.origin;
    // Browsers' rule (Fetch): 303 turns into GET; so do 301 and 302, which for a monitor also
    // keeps a DELETE or PUT from repeating at a second address. 307 and 308 keep the method.
    bool to_get = status != 307 && status != 308 && s.method != "HEAD";
    url = std::move(target);
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_CERTINFO, starts_with_nocase(url, "https://") ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, same_origin ? headers : bare);
    credentials(same_origin);
    if (to_get) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, nullptr);
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (s.body && !same_origin) {
        // The method stays, its body does not leave the site's origin.
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    }
    return Next::Follow;
}

bool Transfer::charge_hop(const char* doing) {
    double this_hop = ms(easy, CURLINFO_TOTAL_TIME_T);
    auto budget_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(site->timeout).count());
    if (earlier_ms + this_hop >= budget_ms) {
        std::snprintf(errbuf, sizeof errbuf, "Operation timed out after %.0f milliseconds, %s", earlier_ms + this_hop,
                      doing);
        return false;
    }
    earlier_ms += this_hop;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1.0, budget_ms - earlier_ms)));
    body.clear();
    received = 0;
    truncated = false;
    errbuf[0] = '\0';
    return true;
}

Outcome Transfer::outcome(CURLcode code) const {
    Outcome o;
    o.code = code;
    o.curl_error = errbuf;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &o.status);
    o.truncated = truncated;
    o.body = body;
    o.body_bytes = static_cast<std::int64_t>(std::min<std::uint64_t>(received, site->max_body));
    o.total_ms = earlier_ms + ms(easy, CURLINFO_TOTAL_TIME_T);
    o.redirect_refused = refused;
    // curl's phase times are cumulative from the start of the last request; turn them into
    // durations of each phase. A phase not reached reads 0.
    double dns = ms(easy, CURLINFO_NAMELOOKUP_TIME_T);
    double connect = ms(easy, CURLINFO_CONNECT_TIME_T);
    double tls = ms(easy, CURLINFO_APPCONNECT_TIME_T);
    double first_byte = ms(easy, CURLINFO_STARTTRANSFER_TIME_T);
    auto since = [](double later, double earlier) {
        return later > 0 ? whole_us(std::max(0.0, later - earlier)) : 0.0;
    };
    o.dns_ms = since(dns, 0);
    o.connect_ms = since(connect, dns);
    o.tls_ms = since(tls, connect);
    o.ttfb_ms = since(first_byte, tls > 0 ? tls : connect);
    o.redirects = hops;
    long version = 0;
    curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
        case CURL_HTTP_VERSION_1_0: o.http_version = "1.0"; break;
        case CURL_HTTP_VERSION_1_1: o.http_version = "1.1"; break;
        case CURL_HTTP_VERSION_2_0: o.http_version = "2"; break;
        case CURL_HTTP_VERSION_3: o.http_version = "3"; break;
        default: break;
    }
    char* ip = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) {
        o.remote_ip = ip;
    }
    if (site->keeps_headers()) {
        // The final response's headers (-1: the last request of this hop's transfer).
        curl_header* h = nullptr;
        while ((h = curl_easy_nextheader(easy, CURLH_HEADER, -1, h)) != nullptr) {
            // libcurl 7.88 gives an empty value as "\r": the line's end, not the value.
            std::string_view value(h->value);
            while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
                value.remove_suffix(1);
            }
            o.headers.emplace_back(h->name, std::string(value));
        }
    }
    if (resolve_ms >= 0) {
        // ip_mode: all resolved the name before the transfer, which connected to an address.
        o.dns_ms = whole_us(resolve_ms);
        o.total_ms += resolve_ms;
    }
    curl_certinfo* certs = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &certs) == CURLE_OK && certs != nullptr && certs->num_of_certs > 0) {
        // The first certificate is the server's own.
        for (curl_slist* f = certs->certinfo[0]; f != nullptr; f = f->next) {
            std::string_view field(f->data);
            if (field.rfind("Expire date:", 0) == 0) {
                o.tls_not_after = parse_cert_time(field.substr(12));
            }
        }
    }
    return o;
}

}  // namespace vigil::plugins::http_check
