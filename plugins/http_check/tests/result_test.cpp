// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "result.hpp"

using namespace vigil::plugins::http_check;

namespace {
Site site(std::optional<std::string> regex = std::nullopt) {
    Site s;
    s.name = "shop";
    s.url = "https://shop.example/";
    s.shown_url = s.url;
    s.expect_status.ranges = {{200, 399}};
    s.max_body = 1024;
    if (regex) {
        s.regex_text = regex;
        s.regex = std::make_shared<const re2::RE2>(*regex);
    }
    return s;
}
Outcome response(long status, std::string_view body) {
    Outcome o;
    o.status = status;
    o.body = body;
    o.body_bytes = static_cast<std::int64_t>(body.size());
    o.total_ms = 12.5;
    o.http_version = "1.1";
    return o;
}
}  // namespace

TEST_CASE("http_check: curl results map to error kinds", "[unit]") {
    struct Case {
        CURLcode code;
        ErrorKind kind;
    };
    const Case cases[] = {
        {CURLE_OK, ErrorKind::None},
        {CURLE_COULDNT_RESOLVE_HOST, ErrorKind::Dns},
        {CURLE_COULDNT_CONNECT, ErrorKind::Connect},
        {CURLE_OPERATION_TIMEDOUT, ErrorKind::Timeout},
        {CURLE_PEER_FAILED_VERIFICATION, ErrorKind::Tls},
        {CURLE_SSL_CONNECT_ERROR, ErrorKind::Tls},
        {CURLE_TOO_MANY_REDIRECTS, ErrorKind::TooManyRedirects},
        {CURLE_RECV_ERROR, ErrorKind::Reset},
        {CURLE_PARTIAL_FILE, ErrorKind::Reset},
        {CURLE_GOT_NOTHING, ErrorKind::Reset},
        {CURLE_FILESIZE_EXCEEDED, ErrorKind::BodyTooLarge},
        {CURLE_BAD_CONTENT_ENCODING, ErrorKind::Other},
        {CURLE_URL_MALFORMAT, ErrorKind::Other},
    };
    for (const auto& c : cases) {
        INFO(curl_easy_strerror(c.code));
        CHECK(classify(c.code) == c.kind);
    }
    CHECK(to_string(ErrorKind::TooManyRedirects) == "too_many_redirects");
    // A TLS 1.3 server refuses a missing client certificate after the handshake, on a read.
    CHECK(classify(CURLE_RECV_ERROR,
                   "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL "
                   "routines::tlsv13 alert certificate required, errno 0") == ErrorKind::Tls);
    CHECK(classify(CURLE_RECV_ERROR, "OpenSSL SSL_read: Connection reset by peer, errno 104") == ErrorKind::Reset);
    CHECK(classify(CURLE_SEND_ERROR, "Send failure: Broken pipe") == ErrorKind::Reset);
    CHECK(to_string(ErrorKind::Assertion) == "assertion");
}

TEST_CASE("http_check: the record says ok only when status, regex and transport all are", "[unit]") {
    auto t = vigil::Timestamp(std::chrono::microseconds(1'700'000'000'000'000));
    struct Case {
        const char* what;
        Outcome outcome;
        std::optional<std::string> regex;
        std::optional<std::string> error;
        std::optional<bool> regex_check;
    };
    Outcome timeout;
    timeout.code = CURLE_OPERATION_TIMEDOUT;
    timeout.curl_error = "Operation timed out after 5000 milliseconds with 0 bytes received";
    Outcome cut = response(200, "no match in this prefix");
    cut.truncated = true;
    cut.code = CURLE_WRITE_ERROR;
    Outcome partial = response(200, "Welcome");
    partial.code = CURLE_PARTIAL_FILE;
    Outcome flood;
    flood.code = CURLE_RECV_ERROR;
    flood.curl_error = "Too large response headers: 307200 > 307200";
    const Case cases[] = {
        {"200 and match", response(200, "<h1>Welcome</h1>"), "Welcome", std::nullopt, true},
        {"200, no regex", response(200, "x"), std::nullopt, std::nullopt, std::nullopt},
        {"200, no match", response(200, "<h1>Closed</h1>"), "Welcome", "regex", false},
        {"404 beats the regex", response(404, "Welcome"), "Welcome", "http", true},
        {"timeout beats all", timeout, "Welcome", "timeout", std::nullopt},
        {"cut at max_body is not an error", cut, std::nullopt, std::nullopt, std::nullopt},
        {"cut, regex judged on the prefix", cut, "prefix", std::nullopt, true},
        {"reset mid-body: no regex verdict", partial, "Welcome", "reset", std::nullopt},
        {"a header flood is not a reset", flood, std::nullopt, "headers_too_large", std::nullopt},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ErrorKind kind = ErrorKind::Other;
        auto r = make_record(site(c.regex), c.outcome, t, 1.5, "id", "probe", &kind);
        CHECK(r.error == c.error);
        CHECK(std::string(to_string(kind)) == r.error.value_or(""));
        CHECK(r.regex_check == c.regex_check);
        CHECK(r.ok == !c.error.has_value());
        CHECK(r.name == "shop");
        CHECK(r.check_id == "id");
        CHECK(r.lag_ms == 1.5);
    }
    auto r = make_record(site(), response(503, ""), t, 0, "id", "probe");
    CHECK(r.error_detail == "status 503 is not one of 200-399");
    CHECK(r.status_code == 503);
    auto none = make_record(site(), timeout, t, 0, "id", "probe");
    CHECK_FALSE(none.status_code);
    CHECK(none.error_detail == timeout.curl_error);
}

TEST_CASE("http_check: certificate expiry parses as OpenSSL prints it", "[unit]") {
    auto t = parse_cert_time("Nov  8 12:00:05 2027 GMT");
    REQUIRE(t);
    CHECK(vigil::format_timestamp(*t) == "2027-11-08T12:00:05.000000Z");
    CHECK(parse_cert_time("Feb 29 00:00:00 2028 GMT"));
    CHECK_FALSE(parse_cert_time("yesterday"));
}

TEST_CASE("http_check: regex_absent, min_cert_validity and max_response_time judge an answer that is up", "[unit]") {
    auto started = vigil::Timestamp(std::chrono::seconds(1'800'000'000));
    auto s = site();
    s.regex_absent_text = "(?i)maintenance";
    s.regex_absent = std::make_shared<const re2::RE2>(*s.regex_absent_text);
    s.min_cert_validity = std::chrono::hours(24 * 14);
    s.max_response_time = std::chrono::milliseconds(10);
    ErrorKind kind = ErrorKind::None;

    auto o = response(200, "<p>Down for MAINTENANCE</p>");
    auto r = make_record(s, o, started, 0, "id", "agent", &kind);
    CHECK(kind == ErrorKind::Regex);
    CHECK(r.error == "regex");
    CHECK(r.ok == false);
    CHECK(r.error_detail == "found \"(?i)maintenance\" (regex_absent) at byte 12");

    o = response(200, "all good");
    o.tls_not_after = started + std::chrono::hours(24 * 3);
    r = make_record(s, o, started, 0, "id", "agent", &kind);
    CHECK(kind == ErrorKind::CertExpiring);
    CHECK(r.error == "cert_expiring");
    CHECK(r.error_detail ==
          "the certificate expires 2027-01-18T08:00:00.000000Z (in 3d), sooner than "
          "min_cert_validity 14d");
    o.tls_not_after = started - std::chrono::hours(1);
    r = make_record(s, o, started, 0, "id", "agent", &kind);
    CHECK(r.error_detail ==
          "the certificate expires 2027-01-15T07:00:00.000000Z (already expired), sooner than "
          "min_cert_validity 14d");

    o.tls_not_after = started + std::chrono::hours(24 * 30);
    r = make_record(s, o, started, 0, "id", "agent", &kind);  // 12.5 ms against 10 ms
    CHECK(kind == ErrorKind::Slow);
    CHECK(r.error == "slow");
    CHECK(r.error_detail == "response time 12.5ms is over max_response_time 10ms");

    s.max_response_time = std::chrono::milliseconds(13);
    r = make_record(s, o, started, 0, "id", "agent", &kind);
    CHECK(kind == ErrorKind::None);
    CHECK(r.ok == true);
    // A status that is not expected comes first: the limits judge only answers that are up.
    r = make_record(s, response(503, "maintenance"), started, 0, "id", "agent", &kind);
    CHECK(r.error == "http");
    CHECK(to_string(ErrorKind::CertExpiring) == "cert_expiring");
}
