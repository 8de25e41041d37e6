// SPDX-License-Identifier: Apache-2.0
#include "transfer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <strings.h>

#include <fmt/core.h>

namespace vigil::plugins::http_check {

namespace {

// Keeps at most max_body bytes; returning less than offered makes curl stop the transfer
// (CURLE_WRITE_ERROR), which result.cpp reads as a cut, not a failure.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t len = size * n;
    std::uint64_t room = t->site->max_body - std::min<std::uint64_t>(t->site->max_body, t->body.size());
    t->received += len;
    if (len > room) {
        t->body.append(data, static_cast<std::size_t>(room));
        t->truncated = true;
        return 0;
    }
    t->body.append(data, len);
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

}  // namespace

Transfer::~Transfer() {
    if (headers != nullptr) {
        curl_slist_free_all(headers);
    }
}

void Transfer::reset() {
    easy = nullptr;
    site.reset();
    body.clear();
    received = 0;
    truncated = false;
    if (headers != nullptr) {
        curl_slist_free_all(headers);
        headers = nullptr;
    }
    errbuf[0] = '\0';
}

void Transfer::configure(CURL* handle) {
    easy = handle;
    const Site& s = *site;
    curl_easy_setopt(easy, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    auto timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout).count();
    // Bounds the whole check, connect and redirects included.
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(1, timeout_ms)));
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, s.follow_redirects ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, s.max_redirects);
    // A redirect may not lead to file://, ldap:// or anything else curl speaks.
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, s.verify_tls ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, s.verify_tls ? 2L : 0L);
    if (!s.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, s.ca_file.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_IPRESOLVE, s.ip_family == IpFamily::V4   ? CURL_IPRESOLVE_V4
                                              : s.ip_family == IpFamily::V6 ? CURL_IPRESOLVE_V6
                                                                            : CURL_IPRESOLVE_WHATEVER);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, s.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
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
    body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(s.max_body, 16 * 1024)));
}

Outcome Transfer::outcome(CURLcode code) const {
    Outcome o;
    o.code = code;
    o.curl_error = errbuf;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &o.status);
    o.truncated = truncated;
    o.body = body;
    o.body_bytes = static_cast<std::int64_t>(std::min<std::uint64_t>(received, site->max_body));
    o.total_ms = ms(easy, CURLINFO_TOTAL_TIME_T);
    // curl's phase times are cumulative from the start of the last request; turn them into
    // durations of each phase. A phase not reached reads 0.
    double redirect = ms(easy, CURLINFO_REDIRECT_TIME_T);
    double dns = ms(easy, CURLINFO_NAMELOOKUP_TIME_T);
    double connect = ms(easy, CURLINFO_CONNECT_TIME_T);
    double tls = ms(easy, CURLINFO_APPCONNECT_TIME_T);
    double first_byte = ms(easy, CURLINFO_STARTTRANSFER_TIME_T);
    auto since = [](double later, double earlier) {
        return later > 0 ? whole_us(std::max(0.0, later - earlier)) : 0.0;
    };
    double base = redirect > 0 && dns >= redirect ? redirect : 0;
    o.dns_ms = since(dns, base);
    o.connect_ms = since(connect, dns);
    o.tls_ms = since(tls, connect);
    o.ttfb_ms = since(first_byte, tls > 0 ? tls : connect);
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &o.redirects);
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
    curl_certinfo* certs = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &certs) == CURLE_OK && certs != nullptr &&
        certs->num_of_certs > 0) {
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
