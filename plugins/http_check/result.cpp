// SPDX-License-Identifier: Apache-2.0
#include "result.hpp"

#include <strings.h>

#include <sstream>

#include <date/date.h>
#include <fmt/core.h>

namespace vigil::plugins::http_check {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::None: return "";
        case ErrorKind::Dns: return "dns";
        case ErrorKind::Connect: return "connect";
        case ErrorKind::Tls: return "tls";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::Http: return "http";
        case ErrorKind::Regex: return "regex";
        case ErrorKind::TooManyRedirects: return "too_many_redirects";
        case ErrorKind::Reset: return "reset";
        case ErrorKind::BodyTooLarge: return "body_too_large";
        case ErrorKind::Other: return "other";
        case ErrorKind::Redirect: return "redirect";
        case ErrorKind::Slow: return "slow";
        case ErrorKind::CertExpiring: return "cert_expiring";
        case ErrorKind::Assertion: return "assertion";
        case ErrorKind::HeadersTooLarge: return "headers_too_large";
    }
    return "other";
}

ErrorKind classify(CURLcode code, std::string_view curl_error) {
    switch (code) {
        case CURLE_OK: return ErrorKind::None;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return ErrorKind::Dns;
        case CURLE_COULDNT_CONNECT: return ErrorKind::Connect;
        case CURLE_OPERATION_TIMEDOUT: return ErrorKind::Timeout;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CLIENTCERT: return ErrorKind::Tls;
        case CURLE_TOO_MANY_REDIRECTS: return ErrorKind::TooManyRedirects;
        // The peer went away mid-exchange: reset, closed early, or sent less than announced.
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            // curl says "receive error" for a header flood too, where the peer sent too much
            // rather than went away; and for a TLS alert after the handshake (TLS 1.3 sends "client
            // certificate required" only then), which OpenSSL names as its own.
            if (curl_error.rfind("Too large response headers", 0) == 0) {
                return ErrorKind::HeadersTooLarge;
            }
            return curl_error.find("SSL routines::") != std::string_view::npos ? ErrorKind::Tls : ErrorKind::Reset;
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM: return ErrorKind::Reset;
        case CURLE_FILESIZE_EXCEEDED: return ErrorKind::BodyTooLarge;
        // libcurl 7.88 ends a response whose one header line is over its 100 KiB buffer with
        // "Out of memory" (CURLE_OUT_OF_MEMORY): the site sent too much, Vigil has memory.
        case CURLE_OUT_OF_MEMORY: return ErrorKind::HeadersTooLarge;
        default: return ErrorKind::Other;
    }
}

std::optional<Timestamp> parse_cert_time(std::string_view text) {
    // OpenSSL prints ASN1 times as "Nov 28 12:00:00 2027 GMT", the day space-padded.
    std::string s(text);
    if (s.size() > 4 && s.compare(s.size() - 4, 4, " GMT") == 0) {
        s.resize(s.size() - 4);
    }
    std::istringstream in(s);
    date::sys_seconds t;
    in >> date::parse("%b %e %H:%M:%S %Y", t);
    if (in.fail()) {
        return std::nullopt;
    }
    return Timestamp(t);
}

namespace {

// A header flood must not make a record of megabytes: the first 8 KiB of the headers tell.
constexpr std::size_t kHeadersExcerptBytes = 8 * 1024;

// "29d23h" rather than "719h59m59s": an expiry date is read in days.
std::string days_and_hours(Timestamp::duration left) {
    auto hours = std::chrono::duration_cast<std::chrono::hours>(left).count();
    if (hours < 24) {
        return format_duration(std::chrono::duration_cast<std::chrono::seconds>(left));
    }
    return hours % 24 == 0 ? fmt::format("{}d", hours / 24) : fmt::format("{}d{}h", hours / 24, hours % 24);
}

std::string_view wanted_version(HttpVersion v) {
    switch (v) {
        case HttpVersion::Http2: return "2";
        case HttpVersion::Http3: return "3";
        case HttpVersion::Auto:
        case HttpVersion::Http11: break;  // curl speaks 1.1 when told to, and 1.0 servers still count
    }
    return {};
}

// Text for a text column: a NUL (which PostgreSQL's text refuses, so pg_sink would reject the
// row) becomes U+FFFD, and a cut never splits a UTF-8 sequence.
std::string column_text(std::string_view bytes, std::size_t max) {
    if (bytes.size() > max) {
        std::size_t cut = max;
        while (cut > 0 && max - cut < 3 && (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80) {
            --cut;
        }
        bytes = bytes.substr(0, cut);
    }
    std::string out;
    out.reserve(bytes.size());
    for (char c : bytes) {
        if (c == '\0') {
            out += "\xEF\xBF\xBD";
        } else {
            out += c;
        }
    }
    return out;
}

// The checks that judge a response that is otherwise up: what the body must not hold, how long
// the certificate must last, how fast the answer must be.
ErrorKind limits(const Site& site, const Outcome& o, Timestamp started, std::optional<std::string>& detail) {
    if (site.regex_absent) {
        re2::StringPiece body(o.body.data(), o.body.size()), found;
        if (site.regex_absent->Match(body, 0, body.size(), re2::RE2::UNANCHORED, &found, 1)) {
            detail = fmt::format("found \"{}\" (regex_absent) at byte {}", *site.regex_absent_text,
                                 found.data() - body.data());
            return ErrorKind::Regex;
        }
    }
    if (auto failed = failed_json_assertion(site.json, o.body, o.truncated)) {
        detail = std::move(failed);
        return ErrorKind::Assertion;
    }
    if (auto failed = failed_header_assertion(site.expect_headers, o.headers)) {
        detail = std::move(failed);
        return ErrorKind::Assertion;
    }
    if (auto wanted = wanted_version(site.http_version); !wanted.empty() && o.http_version != wanted) {
        detail = fmt::format("answered in HTTP/{}; http_version: {} asks for HTTP/{}", o.http_version, wanted, wanted);
        return ErrorKind::Assertion;
    }
    if (site.min_cert_validity > Duration::zero() && o.tls_not_after) {
        auto left = *o.tls_not_after - started;
        if (left < site.min_cert_validity) {
            detail = fmt::format(
                "the certificate expires {} ({}), sooner than min_cert_validity {}", format_timestamp(*o.tls_not_after),
                left <= Timestamp::duration::zero() ? std::string("already expired") : "in " + days_and_hours(left),
                format_duration(site.min_cert_validity));
            return ErrorKind::CertExpiring;
        }
    }
    if (site.max_response_time > Duration::zero() &&
        o.total_ms > std::chrono::duration<double, std::milli>(site.max_response_time).count()) {
        detail = fmt::format("response time {:.1f}ms is over max_response_time {}", o.total_ms,
                             format_duration(site.max_response_time));
        return ErrorKind::Slow;
    }
    return ErrorKind::None;
}

}  // namespace

CheckRecord make_record(const Site& site, const Outcome& o, Timestamp started, double lag_ms, std::string check_id,
                        const std::string& agent, ErrorKind* kind_out) {
    CheckRecord r;
    r.name = site.name;
    // The record travels to Kafka and PostgreSQL: it keeps no password of the URL's.
    r.url = site.shown_url;
    r.response_time = o.total_ms;
    r.timestamp = started;
    r.check_id = std::move(check_id);
    r.agent = agent;
    r.regex = site.regex_text;
    r.lag_ms = lag_ms;
    r.attempts = o.attempts;
    r.kind = "http";
    if (!site.group.empty()) {
        r.group = site.group;
    }

    // Our own stop at max_body surfaces from curl as a write error; it is a cut, not a failure.
    CURLcode code = (o.truncated && o.code == CURLE_WRITE_ERROR) ? CURLE_OK : o.code;
    ErrorKind kind = classify(code, o.curl_error);
    bool responded = o.status > 0;
    if (responded) {
        r.status_code = static_cast<int>(o.status);
        r.http_version = o.http_version;
    }
    if (!o.remote_ip.empty()) {
        r.remote_ip = o.remote_ip;
    }
    if (o.dns_ms > 0 || responded || kind == ErrorKind::None) {
        r.dns_ms = o.dns_ms;
    }
    if (o.connect_ms > 0) {
        r.connect_ms = o.connect_ms;
    }
    if (o.tls_ms > 0) {
        r.tls_ms = o.tls_ms;
    }
    if (o.ttfb_ms > 0) {
        r.ttfb_ms = o.ttfb_ms;
    }
    r.redirects = static_cast<int>(o.redirects);
    r.body_bytes = o.body_bytes;
    r.truncated = o.truncated;
    r.tls_not_after = o.tls_not_after;

    // The regex sees the body whenever one arrived, even with an unexpected status, so that
    // regex_check describes the page; with a transport error the body is incomplete: no verdict.
    bool regex_matched = true;
    if (site.regex && kind == ErrorKind::None) {
        regex_matched = re2::RE2::PartialMatch(re2::StringPiece(o.body.data(), o.body.size()), *site.regex);
        r.regex_check = regex_matched;
    }

    if (kind == ErrorKind::None && !o.redirect_refused.empty()) {
        kind = ErrorKind::Redirect;
        r.error_detail = "refused " + o.redirect_refused;
    } else if (kind != ErrorKind::None) {
        r.error_detail = o.curl_error.empty() ? std::string(curl_easy_strerror(code)) : o.curl_error;
        if (kind == ErrorKind::HeadersTooLarge) {
            r.error_detail = "the response's headers are past libcurl's limit (100 KiB a line, 300 KiB in all): " +
                             r.error_detail.value_or("");
        }
    } else if (!site.expect_status.contains(static_cast<int>(o.status))) {
        kind = ErrorKind::Http;
        r.error_detail = fmt::format("status {} is not one of {}", o.status, site.expect_status.to_string());
    } else if (!regex_matched) {
        kind = ErrorKind::Regex;
        r.error_detail = o.truncated ? fmt::format("no match for \"{}\" in the first {} bytes (body cut at max_body)",
                                                   *site.regex_text, o.body.size())
                                     : fmt::format("no match for \"{}\" in {} bytes", *site.regex_text, o.body.size());
    }
    if (kind == ErrorKind::None) {
        kind = limits(site, o, started, r.error_detail);
    }
    if (kind != ErrorKind::None) {
        r.error = std::string(to_string(kind));
        if (site.body_excerpt && responded) {
            r.body_excerpt = column_text(o.body, Site::kExcerptBytes);
            std::string lines;
            for (const auto& [k, v] : o.headers) {
                // A session cookie must not travel to Kafka and the database with the excerpt.
                lines += k + ": " + (strcasecmp(k.c_str(), "Set-Cookie") == 0 ? std::string("***") : v) + "\n";
            }
            r.response_headers = column_text(lines, kHeadersExcerptBytes);
        }
    }
    if (kind_out != nullptr) {
        *kind_out = kind;
    }
    r.ok = !r.error.has_value();
    return r;
}

}  // namespace vigil::plugins::http_check
