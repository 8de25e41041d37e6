// SPDX-License-Identifier: Apache-2.0
// JSON and header assertions: how each operator judges, what each failure says, and how a bad
// assertion is refused at load with its location.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "assertions.hpp"
#include "http_check_config.hpp"
#include "plugin_config.hpp"
#include "result.hpp"

using namespace vigil::plugins::http_check;

namespace {

std::vector<JsonAssertion> json_of(const std::string& list) {
    auto s =
        vigil::test::check_section("plugin: http_check\nsites: [{name: a, url: \"http://a/\"}]\njson: " + list + "\n",
                                   kOptions, vigil::PluginKind::Source);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto a = read_json_assertions(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(a);
    return *a;
}

std::vector<HeaderAssertion> headers_of(const std::string& list) {
    auto s = vigil::test::check_section(
        "plugin: http_check\nsites: [{name: a, url: \"http://a/\"}]\n"
        "expect_headers: " +
            list + "\n",
        kOptions, vigil::PluginKind::Source);
    REQUIRE_FALSE(s->diags.has_errors());
    auto a = read_header_assertions(s->node, s->diags);
    REQUIRE(a);
    return *a;
}

// The errors parse_config reports for a plugin section with `extra` lines.
std::string errors_of(const std::string& extra) {
    auto s = vigil::test::check_section("plugin: http_check\nsites: [{name: a, url: \"http://a/\"}]\n" + extra,
                                        kOptions, vigil::PluginKind::Source, "", "p.yaml");
    if (!s->diags.has_errors()) {
        parse_config(s->node, s->diags);
    }
    return s->errors();
}

const char* const kHealth =
    R"({"status": "UP", "version": "2.4.1", "queue": {"depth": 42, "ratio": 0.5}, "checks": [{"ok": true}],
        "owner": null, "tags": []})";

}  // namespace

TEST_CASE("http_check json: each operator, passing and failing with a one-line reason", "[unit]") {
    struct Case {
        const char* list;
        std::optional<std::string> failure;
    };
    const Case cases[] = {
        {"[{pointer: /status, equals: UP}]", std::nullopt},
        {"[{pointer: /status, equals: DOWN}]", "json /status is \"UP\", not \"DOWN\""},
        {"[{pointer: /status, not_equals: DOWN}]", std::nullopt},
        {"[{pointer: /status, not_equals: UP}]", "json /status is \"UP\" (not_equals)"},
        {"[{pointer: /queue/depth, equals: 42}]", std::nullopt},
        {"[{pointer: /queue/depth, equals: 42.0}]", std::nullopt},
        {"[{pointer: /queue/depth, equals: \"42\"}]", std::nullopt},  // numbers compare as numbers
        {"[{pointer: /queue/ratio, equals: 5e-1}]", std::nullopt},
        {"[{pointer: /queue/depth, below: 100}]", std::nullopt},
        {"[{pointer: /queue/depth, below: 42}]", "json /queue/depth is 42, not below 42"},
        {"[{pointer: /queue/depth, above: 10, below: 50}]", std::nullopt},
        {"[{pointer: /queue/depth, above: 42.5}]", "json /queue/depth is 42, not above 42.5"},
        {"[{pointer: /status, below: 3}]", "json /status is \"UP\", not a number (below 3)"},
        {"[{pointer: /checks/0/ok, equals: true}]", std::nullopt},
        {"[{pointer: /checks/0/ok, equals: false}]", "json /checks/0/ok is true, not \"false\""},
        {"[{pointer: /owner, equals: \"null\"}]", std::nullopt},
        {"[{pointer: /tags, equals: \"[]\"}]", std::nullopt},
        {"[{pointer: /version, matches: \"^2\\\\.\"}]", std::nullopt},
        {"[{pointer: /version, matches: \"^3\\\\.\"}]", "json /version is \"2.4.1\", no match for \"^3\\.\""},
        {"[{pointer: /queue/depth, matches: \"^4\"}]", std::nullopt},  // a number's JSON text
        {"[{pointer: /status, exists: true}]", std::nullopt},
        {"[{pointer: /maintenance, exists: false}]", std::nullopt},
        {"[{pointer: /maintenance, exists: true}]", "json /maintenance: not found (exists: true)"},
        {"[{pointer: /status, exists: false}]", "json /status is \"UP\", expected nothing there (exists: false)"},
        {"[{pointer: /nope, equals: UP}]", "json /nope: not found"},
        {"[{pointer: /checks/7/ok, equals: true}]", "json /checks/7/ok: not found"},
        // The first failing assertion decides; later ones are not reached.
        {"[{pointer: /status, equals: UP}, {pointer: /queue/depth, below: 10}, {pointer: /nope, exists: true}]",
         "json /queue/depth is 42, not below 10"},
    };
    for (const auto& c : cases) {
        INFO(c.list);
        CHECK(failed_json_assertion(json_of(c.list), kHealth, false) == c.failure);
    }
}

TEST_CASE("http_check json: a body that is not JSON fails with where it stopped parsing", "[unit]") {
    auto a = json_of("[{pointer: /status, equals: UP}]");
    CHECK(failed_json_assertion(a, "<html>down</html>", false) == "body is not JSON: Invalid value. at byte 0");
    CHECK(failed_json_assertion(a, "{\"status\": \"UP\"", false) ==
          "body is not JSON: Missing a comma or '}' after an object member. at byte 15");
    CHECK(failed_json_assertion(a, "{\"status\": \"U", true) ==
          "body is not JSON: Missing a closing quotation mark in string. at byte 13 (the body was cut at max_body)");
    CHECK(failed_json_assertion(a, "  \n", false) == "body is empty, not JSON");
    CHECK(failed_json_assertion({}, "not json at all", false) == std::nullopt);  // no assertion, no verdict
    // A hostile body of deep nesting is parsed without recursion: an error, not a crash.
    CHECK(failed_json_assertion(a, std::string(1'000'000, '['), false).value_or("").rfind("body is not JSON", 0) == 0);
}

TEST_CASE("http_check json: a number of hundreds of digits is read, not overread", "[unit]") {
    // Found by the response fuzzer (tests/fuzz/regressions/response/strtod-full-precision-leading-
    // zeros.json): RapidJSON 1.1.0's full-precision parse of "0.000..." reads out of bounds (ASan:
    // SEGV in StrtodDiyFp) and before that returns garbage (-2e301 for 330 zeros).
    auto a = json_of("[{pointer: /v, below: 1}, {pointer: /v, above: -1}]");
    for (std::size_t zeros : {100, 330, 400, 5000}) {
        INFO(zeros);
        auto body = "{\"v\": 0." + std::string(zeros, '0') + "1}";
        CHECK(failed_json_assertion(a, body, false) == std::nullopt);
    }
    auto exact = json_of("[{pointer: /v, equals: \"0.30000000000000004\"}]");
    CHECK(failed_json_assertion(exact, "{\"v\": 0.30000000000000004}", false) == std::nullopt);
    std::ifstream in(
        std::string(PLUGIN_DIR) + "/../../tests/fuzz/regressions/response/strtod-full-precision-leading-zeros.json",
        std::ios::binary);
    REQUIRE(in);
    std::string crash((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(failed_json_assertion(json_of("[{pointer: /status, exists: true}]"), crash, false).has_value());
}

TEST_CASE("http_check expect_headers: present, matching, absent", "[unit]") {
    ResponseHeaders h = {{"Content-Type", "text/html; charset=utf-8"},
                         {"Set-Cookie", "a=1"},
                         {"Set-Cookie", "session=2"},
                         {"Server", "nginx/1.22.1"}};
    struct Case {
        const char* list;
        std::optional<std::string> failure;
    };
    const Case cases[] = {
        {"[{name: content-type, matches: \"^text/html\"}]", std::nullopt},
        {"[{name: CONTENT-TYPE}]", std::nullopt},
        {"[{name: content-type, matches: \"^application/json\"}]",
         "header content-type: \"text/html; charset=utf-8\" does not match \"^application/json\""},
        {"[{name: strict-transport-security}]", "header strict-transport-security: missing"},
        {"[{name: x-debug, absent: true}]", std::nullopt},
        {"[{name: server, absent: true}]", "header server: present (\"nginx/1.22.1\"), expected absent"},
        {"[{name: server, matches: \"nginx/1\\\\.1\", absent: true}]", std::nullopt},
        {"[{name: server, matches: \"nginx/1\\\\.2\", absent: true}]",
         "header server: \"nginx/1.22.1\" matches \"nginx/1\\.2\" (absent: true)"},
        {"[{name: set-cookie, matches: \"^session=\"}]", std::nullopt},  // any value of the header
    };
    for (const auto& c : cases) {
        INFO(c.list);
        CHECK(failed_header_assertion(headers_of(c.list), h) == c.failure);
    }
}

TEST_CASE("http_check: a bad assertion or transport option is a located error", "[unit][config]") {
    CHECK(errors_of("json: [{pointer: status, equals: UP}]\n") ==
          "p.yaml:3:18: error: json[0].pointer: \"status\" is not a JSON pointer (RFC 6901, e.g. /status or "
          "/items/0/id): error at character 1\n");
    CHECK(errors_of("json: [{pointer: /status}]\n") ==
          "p.yaml:3:8: error: json[0]: says nothing about the value: give equals, not_equals, below, above, exists "
          "or matches\n");
    CHECK(errors_of("json: [{pointer: /a, below: 1, above: 5}]\n") ==
          "p.yaml:3:39: error: json[0].above: no number is above 5 and below 1\n");
    CHECK(errors_of("json: [{pointer: /a, exists: false, equals: x}]\n") ==
          "p.yaml:3:30: error: json[0].exists: exists: false leaves no value for the other operators to judge\n");
    CHECK(errors_of("json: [{pointer: /a, matches: \"(\"}]\n") ==
          "p.yaml:3:31: error: json[0].matches: invalid regular expression \"(\": missing ): (\n");
    CHECK(errors_of("json: [{pointer: /a, below: lots}]\n") ==
          "p.yaml:3:29: error: json[0].below: expected a number, got \"lots\"\n");
    CHECK(errors_of("method: HEAD\njson: [{pointer: /a, exists: true}]\n") ==
          "p.yaml:4:7: error: json: a HEAD request gets no body to judge\n");
    CHECK(errors_of("expect_headers: [{name: \"content type\"}]\n") ==
          "p.yaml:3:25: error: expect_headers[0].name: invalid header name \"content type\"\n");
    CHECK(
        errors_of("expect_headers: [{matches: x}]\n") ==
        "p.yaml:3:18: error: expect_headers[0]: missing required option \"name\" (Response header name (any case))\n");
    CHECK(errors_of("basic_auth: {username: \"a:b\", password: x}\n") ==
          "p.yaml:3:24: error: basic_auth.username: a Basic user name cannot contain ':'\n");
    CHECK(errors_of("basic_auth: {username: a, password: x}\nbearer_token: t\n") ==
          "p.yaml:4:15: error: bearer_token: a site takes basic_auth or bearer_token, not both\n");
    CHECK(errors_of("bearer_token: t\nheaders: {authorization: Bearer x}\n") ==
          "p.yaml:3:15: error: bearer_token: headers already set Authorization; keep one of the two\n");
    CHECK(errors_of("client_cert_file: /etc/hostname\n") ==
          "p.yaml:3:19: error: client_cert_file: client_cert_file and client_key_file go together\n");
    CHECK(errors_of("client_key_file: /nonexistent/key.pem\n") ==
          "p.yaml:3:18: error: client_key_file: cannot read \"/nonexistent/key.pem\": No such file or directory\n"
          "p.yaml:3:18: error: client_key_file: client_cert_file and client_key_file go together\n");
    CHECK(errors_of("proxy: \"ftp://proxy:21\"\n") ==
          "p.yaml:3:8: error: proxy: \"ftp://proxy:21\" is not a proxy URL: http://, https://, socks4://, "
          "socks4a://, socks5:// or socks5h:// and a host (\"\" for no proxy)\n");
    CHECK(errors_of("proxy: \"http://ops:hunter2@\"\n") ==
          "p.yaml:3:8: error: proxy: \"http://ops:***@\" is not a proxy URL: http://, https://, socks4://, "
          "socks4a://, socks5:// or socks5h:// and a host (\"\" for no proxy)\n");
    CHECK(errors_of("http_version: \"1.0\"\n") ==
          "p.yaml:3:15: error: http_version: \"1.0\" is not one of: auto, 1.1, 2, 3\n");
    CHECK(errors_of("http_version: \"3\"\n")
              .find("error: http_version: libcurl 7.88.1 here was built without "
                    "HTTP/3; use auto, 1.1 or 2") != std::string::npos);
    CHECK(errors_of("source_address: 10.0.0.300\n") ==
          "p.yaml:3:17: error: source_address: \"10.0.0.300\" is not an IPv4 or IPv6 address\n");
    CHECK(errors_of("interface: vigil-nope0\n") ==
          "p.yaml:3:12: error: interface: no network interface \"vigil-nope0\" on this host\n");
    CHECK(errors_of("source_address: 127.0.0.1\ninterface: lo\n") ==
          "p.yaml:4:12: error: interface: a site binds to source_address or to interface, not both\n");
    CHECK(errors_of("ip_mode: every\n") == "p.yaml:3:10: error: ip_mode: \"every\" is not one of: any, all\n");
    CHECK(errors_of("retries: 11\n") == "p.yaml:3:10: error: retries: must be between 0 and 10, got 11\n");
    CHECK(errors_of("retry_delay: 5\n") ==
          "p.yaml:3:14: error: retry_delay: expected a duration such as 250ms, 10s, 5m or 1h, got \"5\"\n");
}

TEST_CASE("http_check: the transport options reach the site", "[unit][config]") {
    vigil::test::TempDir dir;
    auto token = dir.write("token", "s3cret-token\n");
    auto s = vigil::test::check_section(
        "plugin: http_check\nsites:\n"
        "  - {name: a, url: \"http://a/\", bearer_token_file: " +
            token.string() +
            ", proxy: \"http://127.0.0.1:3128\", no_proxy: [localhost, .internal],"
            " http_version: \"2\", source_address: 127.0.0.1, ip_mode: all,"
            " retries: 2, retry_delay: 250ms, body_excerpt: true, group: payments}\n"
            "  - {name: b, url: \"http://b/\", basic_auth: {username: ops, password: "
            "pw}, interface: lo, proxy: \"\"}\n",
        kOptions, vigil::PluginKind::Source);
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    const auto& a = *c->sites[0];
    const auto& b = *c->sites[1];
    CHECK(a.bearer_token == "s3cret-token");
    CHECK(a.proxy == "http://127.0.0.1:3128");
    CHECK(a.no_proxy == "localhost,.internal");
    CHECK(a.http_version == HttpVersion::Http2);
    CHECK(a.bind == "host!127.0.0.1");
    CHECK(a.ip_mode == IpMode::All);
    CHECK(a.retries == 2);
    CHECK(a.retry_delay == std::chrono::milliseconds(250));
    CHECK(a.body_excerpt);
    CHECK(a.body_kept() == Site::kExcerptBytes);  // the excerpt alone keeps 1 KiB, not max_body
    CHECK(a.keeps_headers());
    CHECK(a.group == "payments");
    CHECK(b.group.empty());
    CHECK(b.basic_user == "ops");
    CHECK(b.basic_password == "pw");
    CHECK(b.bind == "if!lo");
    CHECK(b.proxy == "");  // set and empty: no proxy, not even the environment's
    CHECK(b.retries == 0);
    CHECK(b.body_kept() == 0);
    CHECK_FALSE(b.keeps_headers());
    CHECK_FALSE(a == b);
}

TEST_CASE("http_check: assertions and the excerpt in the record", "[unit]") {
    auto t = vigil::Timestamp(std::chrono::microseconds(1'700'000'000'000'000));
    Site s;
    s.name = "api";
    s.url = s.shown_url = "https://api.example/health";
    s.expect_status.ranges = {{200, 399}};
    s.max_body = 1 << 20;
    s.json = json_of("[{pointer: /status, equals: UP}]");
    s.expect_headers = headers_of("[{name: content-type, matches: json}]");
    s.body_excerpt = true;
    Outcome o;
    o.status = 200;
    o.http_version = "1.1";
    o.total_ms = 8;
    o.attempts = 3;
    o.headers = {{"Content-Type", "application/json"}};
    std::string body = R"({"status": "DOWN"})";
    o.body = body;
    ErrorKind kind = ErrorKind::None;
    auto r = make_record(s, o, t, 0, "id", "probe", &kind);
    CHECK(kind == ErrorKind::Assertion);
    CHECK(r.error == "assertion");
    CHECK(r.error_detail == "json /status is \"DOWN\", not \"UP\"");
    CHECK(r.ok == false);
    CHECK(r.attempts == 3);
    CHECK(r.body_excerpt == body);
    CHECK(r.response_headers == "Content-Type: application/json\n");
    CHECK_FALSE(r.group);     // a site without a group: null, not ""
    CHECK(r.kind == "http");  // every record says which check made it
    s.group = "payments";
    CHECK(make_record(s, o, t, 0, "id", "probe").group == "payments");
    s.group.clear();

    body = R"({"status": "UP"})";
    o.body = body;
    o.headers = {{"Content-Type", "text/html"}};
    r = make_record(s, o, t, 0, "id", "probe");
    CHECK(r.error_detail == "header content-type: \"text/html\" does not match \"json\"");

    o.headers = {{"Content-Type", "application/json"}};
    r = make_record(s, o, t, 0, "id", "probe");
    CHECK(r.ok == true);
    CHECK_FALSE(r.body_excerpt);  // only a failed check keeps its excerpt
    CHECK_FALSE(r.response_headers);

    s.http_version = HttpVersion::Http2;
    r = make_record(s, o, t, 0, "id", "probe");
    CHECK(r.error == "assertion");
    CHECK(r.error_detail == "answered in HTTP/1.1; http_version: 2 asks for HTTP/2");
    o.http_version = "2";
    CHECK(make_record(s, o, t, 0, "id", "probe").ok == true);

    // An excerpt is at most 1 KiB, cut on a UTF-8 boundary, and holds no NUL (text columns refuse it).
    s.json.clear();
    s.expect_status.ranges = {{200, 200}};
    o.status = 503;
    std::string big = std::string(1023, 'x') + "\xC3\xA9" + std::string(100, 'y');
    o.body = big;
    r = make_record(s, o, t, 0, "id", "probe");
    CHECK(r.error == "http");
    CHECK(r.body_excerpt == std::string(1023, 'x'));
    std::string nul("a\0b", 3);
    o.body = nul;
    r = make_record(s, o, t, 0, "id", "probe");
    CHECK(r.body_excerpt ==
          "a\xEF\xBF\xBD"
          "b");
}
