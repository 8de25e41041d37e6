// SPDX-License-Identifier: Apache-2.0
// Pure mapping from what a transfer observed to the check record: error kinds, ok, timings.
// No network here, so every case is table-tested (Telegraf's setResult/setError).
#pragma once

#include <curl/curl.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http_check_config.hpp"
#include "vigil/record.hpp"

namespace vigil::plugins::http_check {

enum class ErrorKind {
    None,
    Dns,
    Connect,
    Tls,
    Timeout,
    Http,
    Regex,
    TooManyRedirects,
    Reset,
    BodyTooLarge,
    Other,
    Redirect,
    Slow,            // slower than max_response_time
    CertExpiring,    // the certificate ends sooner than min_cert_validity
    Assertion,       // a json or expect_headers assertion failed, or the HTTP version asked for
    HeadersTooLarge  // the response's headers are past libcurl's limit
};
/// Every kind, in the enum's order: the `result` values of vigil_http_check_checks_total.
inline constexpr std::array kErrorKindList = {
    ErrorKind::None,    ErrorKind::Dns,          ErrorKind::Connect,   ErrorKind::Tls,
    ErrorKind::Timeout, ErrorKind::Http,         ErrorKind::Regex,     ErrorKind::TooManyRedirects,
    ErrorKind::Reset,   ErrorKind::BodyTooLarge, ErrorKind::Other,     ErrorKind::Redirect,
    ErrorKind::Slow,    ErrorKind::CertExpiring, ErrorKind::Assertion, ErrorKind::HeadersTooLarge,
};
inline constexpr std::size_t kErrorKinds = kErrorKindList.size();
static_assert(kErrorKindList.back() == ErrorKind::HeadersTooLarge &&
                  static_cast<std::size_t>(ErrorKind::HeadersTooLarge) + 1 == kErrorKinds,
              "kErrorKindList must list every ErrorKind, in order");

/// The record's snake_case name: "dns", "too_many_redirects"...; empty for None.
std::string_view to_string(ErrorKind kind);

/// The error kind a libcurl result code means (CURLE_OK is None); `curl_error` (its error buffer)
/// tells a header flood from a reset.
ErrorKind classify(CURLcode code, std::string_view curl_error = {});

/// Everything a finished transfer reports, in curl's units turned to milliseconds.
struct Outcome {
    CURLcode code = CURLE_OK;
    std::string curl_error;  // curl's error buffer, or empty
    long status = 0;         // final response status; 0 when none was received
    bool truncated = false;  // we stopped reading at max_body
    std::string_view body;   // what was read (at most max_body bytes)
    double total_ms = 0;
    double dns_ms = 0;  // phase durations of the final request, 0 when not reached
    double connect_ms = 0;
    double tls_ms = 0;
    double ttfb_ms = 0;
    long redirects = 0;
    std::int64_t body_bytes = 0;
    std::string http_version;  // "1.1", "2", "3"; empty when no response
    std::string remote_ip;
    std::optional<Timestamp> tls_not_after;
    std::string redirect_refused;  // why a redirect was not followed; empty if none was refused
    ResponseHeaders headers;       // the final response's, when the site keeps them (keeps_headers)
    int attempts = 1;              // this one included
};

/// Builds the record of one check. Precedence of errors: transport (curl) first, then status,
/// then regex, regex_absent, the assertions (json, expect_headers, http_version), min_cert_validity
/// (cert_expiring) and max_response_time (slow). The regex runs on what was read, even when the
/// status is unexpected, so regex_check always says what the body held. With body_excerpt, a
/// failed check's record keeps the start of its body and its response headers. `kind`, if given, receives the record's error
/// kind (None when ok), for counting without re-reading the record's string.
CheckRecord make_record(const Site& site, const Outcome& outcome, Timestamp started, double lag_ms,
                        std::string check_id, const std::string& agent, ErrorKind* kind = nullptr);

/// Parses OpenSSL's "Expire date" as libcurl's certinfo prints it ("Nov 28 12:00:00 2027 GMT").
std::optional<Timestamp> parse_cert_time(std::string_view text);

}  // namespace vigil::plugins::http_check
