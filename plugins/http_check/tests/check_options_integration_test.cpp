// SPDX-License-Identifier: Apache-2.0
// http_check's assertions, credentials, transport options, retries, excerpts and ip_mode: all,
// each against real servers on 127.0.0.1 (scripts/fixture-sites: a private CA, mutual TLS,
// expired and expiring certificates, a recording proxy, nghttpd for HTTP/2, a name with two
// addresses), passing and failing.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <algorithm>

#include "run_check.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using vigil::test::check_all;
using vigil::test::check_once;
using vigil::test::escape;
using vigil::test::fixture;
using vigil::test::received;
using vigil::test::site;

namespace {

// What the fixture's proxy forwarded: "METHOD target" and the Proxy-Authorization it got.
std::vector<std::pair<std::string, std::string>> proxied() {
    auto page = vigil::test::run(
        {"/usr/bin/curl", "-sS", "--noproxy", "*", "http://127.0.0.1:" + std::to_string(fixture().proxy) + "/proxied"});
    rapidjson::Document d;
    d.Parse(page.out.c_str());
    std::vector<std::pair<std::string, std::string>> out;
    REQUIRE(d.IsArray());
    for (const auto& r : d.GetArray()) {
        const auto& h = r["headers"];
        std::string auth = h.HasMember("Proxy-Authorization") ? h["Proxy-Authorization"].GetString() : "";
        out.emplace_back(std::string(r["method"].GetString()) + " " + r["target"].GetString(), auth);
    }
    return out;
}

bool proxied_contains(const std::string& what) {
    auto all = proxied();
    return std::any_of(all.begin(), all.end(), [&](const auto& p) { return p.first == what; });
}

std::string detail(const vigil::CheckRecord& r) { return r.error.value_or("ok") + ": " + r.error_detail.value_or(""); }

}  // namespace

TEST_CASE("http_check: json and expect_headers assertions against real responses", "[integration]") {
    const auto& f = fixture();
    auto respond = [&](const std::string& query) { return f.url("/respond?" + query); };
    auto r = check_once(
        "plugin: http_check\nca_file: " + f.ca_file + "\nsites:\n" +
        site("up", f.url("/health/UP"),
             "json: [{pointer: /status, equals: UP}, {pointer: /queue/depth, below: 100}, "
             "{pointer: /checks/0/name, matches: '^db$'}, {pointer: /maintenance, exists: false}]") +
        site("down", f.url("/health/DOWN"), "json: [{pointer: /status, equals: UP}]") +
        site("deep", f.url("/health/UP"), "json: [{pointer: /queue/depth, below: 10}]") +
        site("missing", f.url("/health/UP"), "json: [{pointer: /uptime, above: 0}]") +
        site("html", f.url("/ok"), "json: [{pointer: /status, equals: UP}]") +
        site("cut", f.url("/health/UP"), "max_body: 20, json: [{pointer: /status, exists: true}]") +
        site("bad-status", f.url("/status/503"), "json: [{pointer: /status, equals: UP}]") +
        site("type-ok", respond("h=Content-Type:application/json&h=X-Frame-Options:DENY"),
             "expect_headers: [{name: content-type, matches: '^application/json'}, {name: x-frame-options}]") +
        site("type-wrong", f.url("/ok"), "expect_headers: [{name: Content-Type, matches: '^application/json'}]") +
        site("hsts-missing", f.url("/ok"), "expect_headers: [{name: strict-transport-security}]") +
        site("debug-absent", f.url("/ok"), "expect_headers: [{name: x-debug-token, absent: true}]") +
        site("debug-present", respond("h=X-Debug-Token:abc123"),
             "expect_headers: [{name: x-debug-token, absent: true}]") +
        site("old-server", respond("h=X-Powered-By:PHP/5.6.40"),
             "expect_headers: [{name: x-powered-by, matches: 'PHP/5', absent: true}]") +
        site("tls-json", f.tls("/health/UP"), "json: [{pointer: /version, equals: 2.4.1}]"));
    REQUIRE(r.size() == 14);
    for (const char* name : {"up", "type-ok", "debug-absent", "tls-json"}) {
        INFO(name << ": " << detail(r[name]));
        CHECK(r[name].ok == true);
    }
    CHECK(r["down"].error == "assertion");
    CHECK(r["down"].status_code == 200);
    CHECK(r["down"].error_detail == "json /status is \"DOWN\", not \"UP\"");
    CHECK(r["deep"].error_detail == "json /queue/depth is 42, not below 10");
    CHECK(r["missing"].error_detail == "json /uptime: not found");
    CHECK(r["html"].error == "assertion");
    CHECK(r["html"].error_detail == "body is not JSON: Invalid value. at byte 0");
    CHECK(r["cut"].error == "assertion");
    CHECK(r["cut"].truncated == true);
    CHECK_THAT(r["cut"].error_detail.value_or(""),
               Catch::StartsWith("body is not JSON: ") && Catch::EndsWith("(the body was cut at max_body)"));
    CHECK(r["bad-status"].error == "http");  // the status decides first
    CHECK(r["type-wrong"].error == "assertion");
    CHECK(r["type-wrong"].error_detail == "header Content-Type: \"text/html\" does not match \"^application/json\"");
    CHECK(r["hsts-missing"].error_detail == "header strict-transport-security: missing");
    CHECK(r["debug-present"].error_detail == "header x-debug-token: present (\"abc123\"), expected absent");
    CHECK(r["old-server"].error_detail == "header x-powered-by: \"PHP/5.6.40\" matches \"PHP/5\" (absent: true)");
}

TEST_CASE("http_check: Basic and Bearer credentials, sent to the site's own origin only", "[integration]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto password = dir.write("password", "s3cret\n");
    auto token = dir.write("token", "t0ken-42\n");
    // Redirected to another origin (localhost instead of 127.0.0.1): no credentials go there.
    auto elsewhere = [&](const std::string& name) {
        return f.url("/to/302?url=" + escape("http://localhost:" + std::to_string(f.http) + "/record/" + name));
    };
    auto r =
        check_once("plugin: http_check\nsites:\n" +
                   site("basic", f.url("/basic/ops/s3cret"),
                        "basic_auth: {username: ops, password_file: " + password.string() + "}") +
                   site("basic-wrong", f.url("/basic/ops/other"), "basic_auth: {username: ops, password: s3cret}") +
                   site("basic-none", f.url("/basic/ops/s3cret")) +
                   site("bearer", f.url("/bearer/t0ken-42"), "bearer_token_file: " + token.string()) +
                   site("bearer-wrong", f.url("/bearer/t0ken-42"), "bearer_token: nope") +
                   site("basic-away", elsewhere("basic-away"), "basic_auth: {username: ops, password: s3cret}") +
                   site("bearer-away", elsewhere("bearer-away"), "bearer_token: t0ken-42") +
                   site("basic-home", f.url("/record/basic-home"), "basic_auth: {username: ops, password: pw}"));
    CHECK(r["basic"].ok == true);
    CHECK(r["basic-wrong"].error == "http");
    CHECK(r["basic-wrong"].status_code == 401);
    CHECK(r["basic-none"].status_code == 401);
    CHECK(r["bearer"].ok == true);
    CHECK(r["bearer-wrong"].status_code == 401);
    for (const char* name : {"basic-away", "bearer-away"}) {
        INFO(name);
        CHECK(r[name].ok == true);
        CHECK(r[name].redirects == 1);
        REQUIRE(received(name).size() == 1);
        CHECK(received(name)[0].headers.count("authorization") == 0);
    }
    REQUIRE(received("basic-home").size() == 1);
    CHECK(received("basic-home")[0].headers["authorization"] == "Basic b3BzOnB3");  // ops:pw
}

TEST_CASE("http_check: mutual TLS, and expired and expiring certificates", "[integration]") {
    const auto& f = fixture();
    auto client = "client_cert_file: " + f.client_cert + ", client_key_file: " + f.client_key;
    auto r =
        check_once("plugin: http_check\nca_file: " + f.ca_file + "\nsites:\n" +
                   site("mtls", f.tls_on(f.mtls, "/whoami"),
                        client + ", json: [{pointer: /subject/commonName, equals: "
                                 "vigil-probe}]") +
                   site("mtls-without", f.tls_on(f.mtls, "/whoami")) + site("expired", f.tls_on(f.expired, "/ok")) +
                   site("expired-unverified", f.tls_on(f.expired, "/ok"), "verify_tls: false, min_cert_validity: 1d") +
                   site("expiring", f.tls_on(f.expiring, "/ok"), "min_cert_validity: 14d") +
                   site("expiring-no-limit", f.tls_on(f.expiring, "/ok")));
    INFO(detail(r["mtls"]));
    CHECK(r["mtls"].ok == true);
    CHECK(r["mtls-without"].error == "tls");
    CHECK_THAT(r["mtls-without"].error_detail.value_or(""), Catch::Contains("handshake failure"));  // TLS 1.2
    CHECK(r["expired"].error == "tls");
    CHECK_THAT(r["expired"].error_detail.value_or(""), Catch::Contains("expired"));
    CHECK(r["expired-unverified"].error == "cert_expiring");
    CHECK_THAT(r["expired-unverified"].error_detail.value_or(""),
               Catch::Matches("the certificate expires 20.*Z \\(already expired\\), sooner than min_cert_validity "
                              "1d"));
    CHECK(r["expiring"].error == "cert_expiring");
    CHECK_THAT(r["expiring"].error_detail.value_or(""),
               Catch::Matches("the certificate expires 20.*Z \\(in 1d23h\\), sooner than min_cert_validity 14d"));
    CHECK(r["expiring-no-limit"].ok == true);
}

TEST_CASE("http_check: through a proxy (http forwarded, https tunnelled), no_proxy, and a proxy that is down",
          "[integration]") {
    const auto& f = fixture();
    auto proxy = "http://127.0.0.1:" + std::to_string(f.proxy);
    auto r = check_once(
        "plugin: http_check\nca_file: " + f.ca_file + "\nsites:\n" +
        site("via-proxy", f.url("/ok?via=proxy"),
             "proxy: \"http://scout:pw@127.0.0.1:" + std::to_string(f.proxy) + "\"") +
        site("tunnelled", f.tls("/ok"), "proxy: \"" + proxy + "\", regex: 'Vigil fixture'") +
        site("bypassed", f.url("/ok?via=direct"), "proxy: \"" + proxy + "\", no_proxy: [127.0.0.1]") +
        site("proxy-down", f.url("/ok?via=nowhere"), "proxy: \"http://127.0.0.1:" + std::to_string(f.refused) + "\""));
    INFO(detail(r["via-proxy"]) << " / " << detail(r["tunnelled"]));
    CHECK(r["via-proxy"].ok == true);
    CHECK(r["tunnelled"].ok == true);
    CHECK(r["tunnelled"].tls_not_after.has_value());  // the site's own certificate, through the tunnel
    CHECK(r["bypassed"].ok == true);
    CHECK(r["proxy-down"].error == "connect");
    auto all = proxied();
    auto find = [&](const std::string& what) {
        return std::find_if(all.begin(), all.end(), [&](const auto& p) { return p.first == what; });
    };
    auto via = find("GET " + f.url("/ok?via=proxy"));
    REQUIRE(via != all.end());
    CHECK(via->second == "Basic c2NvdXQ6cHc=");  // scout:pw, to the proxy
    CHECK(find("CONNECT localhost:" + std::to_string(f.https)) != all.end());
    CHECK_FALSE(proxied_contains("GET " + f.url("/ok?via=direct")));
}

TEST_CASE("http_check: http_version, and HTTP/2 from nghttpd", "[integration]") {
    const auto& f = fixture();
    INFO("nghttpd (Debian's nghttp2-server, from scripts/install-deps) did not start");
    REQUIRE(f.h2 > 0);
    auto r = check_once("plugin: http_check\nca_file: " + f.ca_file + "\nsites:\n" +
                        site("h2-auto", f.tls_on(f.h2, "/ok.html"), "regex: 'Vigil fixture'") +
                        site("h2-asked", f.tls_on(f.h2, "/health.json"),
                             "http_version: \"2\", json: [{pointer: /status, equals: UP}]") +
                        site("h1-asked-h2", f.tls("/ok"), "http_version: \"2\"") +
                        site("h1-forced", f.tls("/ok"), "http_version: \"1.1\""));
    INFO(detail(r["h2-auto"]) << " / " << detail(r["h2-asked"]));
    CHECK(r["h2-auto"].ok == true);
    CHECK(r["h2-auto"].http_version == "2");
    CHECK(r["h2-asked"].ok == true);
    CHECK(r["h2-asked"].http_version == "2");
    CHECK(r["h1-asked-h2"].error == "assertion");
    CHECK(r["h1-asked-h2"].error_detail == "answered in HTTP/1.1; http_version: 2 asks for HTTP/2");
    CHECK(r["h1-forced"].ok == true);
    CHECK(r["h1-forced"].http_version == "1.1");
}

TEST_CASE("http_check: source_address and interface bind the check", "[integration]") {
    const auto& f = fixture();
    auto r = check_once(
        "plugin: http_check\nsites:\n" +
        site("from-2", f.url("/whoami"), "source_address: 127.0.0.2, json: [{pointer: /address, equals: 127.0.0.2}]") +
        site("from-3", f.url("/whoami"), "source_address: 127.0.0.3, json: [{pointer: /address, equals: 127.0.0.3}]") +
        site("via-lo", f.url("/whoami"), "interface: lo, json: [{pointer: /address, equals: 127.0.0.1}]") +
        site("unbindable", f.url("/ok"), "source_address: 192.0.2.1"));
    for (const char* name : {"from-2", "from-3", "via-lo"}) {
        INFO(name << ": " << detail(r[name]));
        CHECK(r[name].ok == true);
    }
    CHECK(r["unbindable"].ok == false);  // an address this host does not have
    CHECK(r["unbindable"].error == "other");
}

TEST_CASE("http_check: retries: a check fails only if every attempt failed, and says how many it took",
          "[integration]") {
    const auto& f = fixture();
    auto started = std::chrono::steady_clock::now();
    auto r =
        check_once("plugin: http_check\nretry_delay: 200ms\nsites:\n" +
                   site("third-time", f.url("/flaky/third-time?fail=2"), "retries: 2") +
                   site("gives-up", f.url("/flaky/gives-up?fail=9"), "retries: 1") +
                   site("no-retry", f.url("/flaky/no-retry?fail=1")) + site("first-time", f.url("/ok"), "retries: 3") +
                   site("dns-retried", "http://vigil-test.invalid/", "retries: 1, retry_delay: 50ms"));
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(r["third-time"].ok == true);
    CHECK(r["third-time"].attempts == 3);
    CHECK(r["gives-up"].error == "http");
    CHECK(r["gives-up"].status_code == 503);
    CHECK(r["gives-up"].attempts == 2);
    CHECK(r["no-retry"].error == "http");
    CHECK(r["no-retry"].attempts == 1);
    CHECK(r["first-time"].ok == true);
    CHECK(r["first-time"].attempts == 1);
    CHECK(r["dns-retried"].error == "dns");
    CHECK(r["dns-retried"].attempts == 2);
    CHECK(took >= 400ms);  // third-time waited retry_delay twice
    // One record per check, whatever the attempts.
    CHECK(check_all("plugin: http_check\nsites:\n" +
                    site("once", f.url("/flaky/once?fail=1"), "retries: 1, retry_delay: 10ms"))
              .size() == 1);
}

TEST_CASE("http_check: body_excerpt keeps a failed check's body start and headers, cookies hidden", "[integration]") {
    const auto& f = fixture();
    auto r =
        check_once("plugin: http_check\nbody_excerpt: true\nsites:\n" + site("down", f.url("/status/503")) +
                   site("big", f.url("/size/5000"), "expect_status: [404]") +
                   site("cookie", f.url("/respond?status=500&h=Set-Cookie:session=abc&h=X-Request-Id:r-1&body=boom")) +
                   site("fine", f.url("/ok")) + site("off", f.url("/status/500"), "body_excerpt: false") +
                   site("nothing", "http://127.0.0.1:" + std::to_string(f.refused) + "/"));
    CHECK(r["down"].body_excerpt == "status 503\n");
    CHECK_THAT(r["down"].response_headers.value_or(""),
               Catch::Contains("Content-Type: text/plain\n") && Catch::Contains("Content-Length: 11\n"));
    CHECK(r["big"].body_excerpt == std::string(1024, 'x'));
    CHECK(r["big"].body_bytes == 5000);
    CHECK(r["cookie"].body_excerpt == "boom");
    CHECK_THAT(r["cookie"].response_headers.value_or(""),
               Catch::Contains("Set-Cookie: ***\n") && Catch::Contains("X-Request-Id: r-1\n"));
    CHECK_FALSE(r["fine"].body_excerpt);
    CHECK_FALSE(r["off"].body_excerpt);
    CHECK_FALSE(r["nothing"].body_excerpt);  // no response, nothing to keep
}

TEST_CASE("http_check: ip_mode: all checks a name's one address, and reports a name that resolves to none",
          "[integration]") {
    const auto& f = fixture();
    auto all =
        check_all("plugin: http_check\nca_file: " + f.ca_file + "\nip_mode: all\nsites:\n" +
                  site("one", "http://localhost:" + std::to_string(f.http) + "/ok") +
                  site("tls", f.tls("/ok"), "regex: 'Vigil fixture'") + site("none", "http://vigil-test.invalid/") +
                  site("v6-only", "http://localhost:" + std::to_string(f.http) + "/ok", "ip_family: ipv6"));
    std::map<std::string, std::vector<vigil::CheckRecord>> by;
    for (auto& r : all) {
        by[r.name].push_back(r);
    }
    REQUIRE(by["one"].size() == 1);
    CHECK(by["one"][0].ok == true);
    CHECK(by["one"][0].remote_ip == "127.0.0.1");
    CHECK(by["one"][0].dns_ms.has_value());
    REQUIRE(by["tls"].size() == 1);
    INFO(detail(by["tls"][0]));
    CHECK(by["tls"][0].ok == true);  // the certificate is checked for the name, not the address
    REQUIRE(by["none"].size() == 1);
    CHECK(by["none"][0].error == "dns");
    CHECK_THAT(by["none"][0].error_detail.value_or(""),
               Catch::StartsWith("Could not resolve host: vigil-test.invalid"));
    REQUIRE(by["v6-only"].size() == 1);
    CHECK(by["v6-only"][0].error == "dns");  // localhost has no IPv6 address here
}

TEST_CASE("http_check: ip_mode: all shows the one bad server behind a name with two addresses", "[integration]") {
    // The agent runs in a mount namespace of its own whose /etc/hosts gives pair.vigil.test two
    // addresses: 127.0.0.1 (a good server) and 127.0.0.2 (one that answers 503).
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto hosts = dir.write("hosts", "127.0.0.1 localhost\n127.0.0.1 pair.vigil.test\n127.0.0.2 pair.vigil.test\n");
    auto url = "http://pair.vigil.test:" + std::to_string(f.pair) + "/ok";
    auto p = dir.write("p.yaml", "pipeline: t\nsource:\n  plugin: http_check\n  sites:\n" +
                                     site("pair-all", url, "ip_mode: all") + site("pair-any", url) +
                                     "sinks: [{plugin: stdout_sink, path: out.jsonl}]\n");
    auto run = vigil::test::run({"/usr/bin/unshare", "--mount", "--map-root-user", "/bin/sh", "-c",
                                 "mount --bind \"$0\" /etc/hosts && exec \"$1\" --once --pipeline \"$2\"",
                                 hosts.string(), vigil::test::agent_binary().string(), p.string()});
    INFO(run.err);
    REQUIRE(run.code == 0);
    std::map<std::string, vigil::CheckRecord> all;  // by remote_ip
    std::vector<vigil::CheckRecord> any;
    for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
        auto rec = vigil::decode_json(line);
        REQUIRE(rec);
        if (rec.record->name == "pair-all") {
            all[rec.record->remote_ip.value_or("")] = *rec.record;
        } else {
            any.push_back(*rec.record);
        }
    }
    REQUIRE(all.size() == 2);
    CHECK(all["127.0.0.1"].ok == true);
    CHECK(all["127.0.0.1"].status_code == 200);
    CHECK(all["127.0.0.2"].ok == false);
    CHECK(all["127.0.0.2"].status_code == 503);
    CHECK(all["127.0.0.1"].check_id != all["127.0.0.2"].check_id);
    CHECK(all["127.0.0.1"].timestamp == all["127.0.0.2"].timestamp);
    REQUIRE(any.size() == 1);  // ip_mode: any: one record, whichever address curl took
}

TEST_CASE("hostile: bodies that crashed or stalled the producer give a record, and the agent exits 0", "[hostile]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto body = [&](const std::string& json) {
        return f.url("/respond?h=Content-Type:application/json&body=" + escape(json));
    };
    auto sites = dir.write("sites.yaml", "- {name: precision, url: \"" +
                                             body(R"({"status":"UP","a":0.11111111111111111111e-330})") +
                                             "\", json: [{pointer: /status, equals: UP}]}\n"
                                             "- {name: exponent, url: \"" +
                                             body(R"({"status":"UP","a":0.00000000001e-2147483639})") +
                                             "\", json: [{pointer: /a, below: 1}]}\n"
                                             "- {name: deep, url: \"" +
                                             f.url("/deep/100000") +
                                             "\", max_body: 1MiB, json: [{pointer: \"\", matches: UP}]}\n"
                                             "- {name: nul, url: \"" +
                                             f.url("/respond?h=Content-Type:application/json&body=123%00garbage") +
                                             "\", json: [{pointer: \"\", equals: \"123\"}]}\n");
    auto pipeline =
        dir.write("check.yaml", "pipeline: check\nsource:\n  plugin: http_check\n  sites_file: " + sites.string() +
                                    "\nsinks: [{plugin: stdout_sink, path: out.jsonl}]\n");
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "--once", "--pipeline", pipeline.string()});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::map<std::string, vigil::CheckRecord> by;
    for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
        auto rec = vigil::decode_json(line);
        REQUIRE(rec);
        by[rec.record->name] = *rec.record;
    }
    REQUIRE(by.size() == 4);
    CHECK(by["precision"].ok == true);
    CHECK(by["exponent"].ok == true);
    CHECK(by["deep"].error == "assertion");
    CHECK(by["deep"].error_detail == "body is not JSON: nesting deeper than 64 levels at byte 64");
    CHECK(by["nul"].error == "assertion");
    CHECK(by["nul"].error_detail == "body is not JSON: a NUL byte, which JSON text may not hold at byte 3");
}

TEST_CASE("http_check: as peer probers do: cookies across one check's redirects, empty headers, header floods",
          "[integration]") {
    const auto& f = fixture();
    auto r =
        check_once("plugin: http_check\nsites:\n" + site("cookie", f.url("/cookie/set")) +
                   site("fresh", f.url("/cookie/check")) +  // checked by a handle that held a cookie: none passes over
                   site("empty", f.url("/respond?h=X-Empty:"), "expect_headers: [{name: X-Empty, matches: \"^$\"}]") +
                   site("flood", f.url("/headers/400")));
    CHECK(r["cookie"].ok == true);
    CHECK(r["cookie"].status_code == 200);
    CHECK(r["fresh"].status_code == 403);
    INFO(r["empty"].error_detail.value_or(""));
    CHECK(r["empty"].ok == true);
    CHECK(r["flood"].error == "headers_too_large");
    CHECK_THAT(r["flood"].error_detail.value_or(""),
               Catch::StartsWith("the response's headers are past libcurl's limit (100 KiB a line, 300 KiB in all)"));
    // A second round on the same worker's handles: still no cookie carried over.
    auto again = check_once("plugin: http_check\nsites:\n" + site("fresh", f.url("/cookie/check")));
    CHECK(again["fresh"].status_code == 403);
}

TEST_CASE("http_check: a body in an encoding libcurl lacks is judged as it came", "[integration]") {
    const auto& f = fixture();
    auto r = check_once(
        "plugin: http_check\nsites:\n" +
        site("odd", f.url("/respond?h=Content-Encoding:x-vigil-unknown&body=Welcome%20home"), "regex: Welcome"));
    INFO(r["odd"].error_detail.value_or(""));
    CHECK(r["odd"].ok == true);
    CHECK(r["odd"].regex_check == true);
    CHECK(r["odd"].body_bytes == 12);
}
