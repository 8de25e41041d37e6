// SPDX-License-Identifier: Apache-2.0
// The status page against the PostgreSQL of scripts/services: known rollups, states and events
// made with SQL, then the overview, a site's page and the API checked for their figures, their
// filters and paging, the public view, and a hostile site name shown as text.
#include <curl/curl.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "pg_support.hpp"
#include "server.hpp"
#include "slow_clients.hpp"
#include "store.hpp"
#include "support.hpp"

namespace pg = vigil::test::pg;
using vigil::status_page::Server;
using vigil::status_page::Store;
using vigil::status_page::View;

namespace {

constexpr const char* kHostile = "<script>alert(1)</script>";

// fixture.sql: alpha up, every check good for 90 days at about 100 ms; bravo down for the last 2
// hours (connection refused), good before; charlie degraded (slow); and a site named like a script.
void load(const std::string& url, const std::string& file) {
    std::ifstream in(std::string(STATUS_TEST_DIR) + "/" + file);
    REQUIRE(in);
    std::stringstream sql;
    sql << in.rdbuf();
    pg::query(url, sql.str());
}

void seed(const std::string& url) {
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "migrate", "--database-url", url});
    REQUIRE(r.code == 0);
    load(url, "fixture.sql");
}

struct Page {
    pg::TestDatabase db;
    Store store{vigil::Secret(db.url()), 2};
    Page() { seed(db.url()); }
    Server::Answer get(const std::string& path, std::map<std::string, std::string> args = {},
                       bool public_view = false) {
        View v;
        v.title = "Test status";
        v.public_view = public_view;
        Server server(store, v);
        return server.answer(path, [&](const char* key) -> const char* {
            auto it = args.find(key);
            return it == args.end() ? nullptr : it->second.c_str();
        });
    }
};

rapidjson::Document json(const Server::Answer& a) {
    rapidjson::Document d;
    d.Parse(a.body.c_str());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("status page: the overview lists the sites, down first, with their 24-hour uptime", "[integration]") {
    Page p;
    auto a = p.get("/");
    REQUIRE(a.status == 200);
    CHECK_THAT(a.body, Catch::Contains("<b>2</b> up</span><span><b>1</b> down</span><span><b>1</b> degraded"));
    auto bravo = a.body.find("data-site=\"bravo\"");
    auto charlie = a.body.find("data-site=\"charlie\"");
    auto alpha = a.body.find("data-site=\"alpha\"");
    REQUIRE(bravo != std::string::npos);
    CHECK(bravo < charlie);
    CHECK(charlie < alpha);
    // bravo: 22 good hours of 24.
    CHECK_THAT(a.body.substr(bravo, 400), Catch::Contains("data-field=\"uptime_24h\">91.67%"));
    CHECK_THAT(a.body.substr(alpha, 400), Catch::Contains("data-field=\"uptime_24h\">100.00%"));
    CHECK_THAT(a.body.substr(bravo, 600), Catch::Contains("connect: Connection refused"));
    CHECK_THAT(a.body, Catch::Contains("Page 1 of 1 · 4 sites"));
}

TEST_CASE("status page: hostile names and URLs are shown as text", "[integration]") {
    Page p;
    for (const auto& path : {std::string("/"), std::string("/sites/") + kHostile}) {
        INFO(path);
        auto a = p.get(path);
        REQUIRE(a.status == 200);
        CHECK(count(a.body, "<script") == 0);
        CHECK_THAT(a.body, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    CHECK_THAT(p.get("/").body, Catch::Contains("href=\"/sites/%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""));
    // A URL that is not http(s) is never made a link.
    auto charlie = p.get("/sites/charlie");
    CHECK(count(charlie.body, "href=\"javascript:") == 0);
    CHECK_THAT(charlie.body, Catch::Contains("javascript:alert(2)"));
    auto api = json(p.get(std::string("/api/sites/") + kHostile));
    CHECK(std::string(api["name"].GetString()) == kHostile);
}

TEST_CASE("status page: search, state filter and paging", "[integration]") {
    Page p;
    auto down = json(p.get("/api/sites", {{"state", "down"}}));
    REQUIRE(down["sites"].Size() == 1);
    CHECK(std::string(down["sites"][0]["name"].GetString()) == "bravo");
    CHECK(down["total"].GetInt() == 1);
    CHECK(down["counts"]["up"].GetInt() == 2);
    // LIKE's wildcards are looked for as characters: no site name holds one.
    for (const char* wild : {"%", "_", "\\", "a%a"}) {
        INFO(wild);
        CHECK(json(p.get("/api/sites", {{"q", wild}}))["total"].GetInt() == 0);
    }
    CHECK(json(p.get("/api/sites", {{"q", "(1)"}}))["total"].GetInt() == 1);  // the script-named one
    auto search = json(p.get("/api/sites", {{"q", "ALP"}}));
    REQUIRE(search["sites"].Size() == 1);
    CHECK(std::string(search["sites"][0]["name"].GetString()) == "alpha");
    auto first = json(p.get("/api/sites", {{"per_page", "3"}}));
    auto second = json(p.get("/api/sites", {{"per_page", "3"}, {"page", "2"}}));
    CHECK(first["sites"].Size() == 3);
    REQUIRE(second["sites"].Size() == 1);
    CHECK(std::string(second["sites"][0]["name"].GetString()) ==
          "alpha");  // last: up, after the script's "<"... by name
    auto html = p.get("/", {{"per_page", "3"}, {"q", "a"}});
    CHECK_THAT(html.body, Catch::Contains("Page 1 of 2"));
    CHECK_THAT(html.body, Catch::Contains("href=\"/?page=2&amp;q=a\""));
    auto web = json(p.get("/api/sites", {{"group", "web"}}));
    REQUIRE(web["sites"].Size() == 2);
    CHECK(std::string(web["sites"][0]["name"].GetString()) == "charlie");
    CHECK(std::string(web["sites"][1]["group"].GetString()) == "web");
    CHECK(std::string(web["sites"][0]["kind"].GetString()) == "tcp");   // charlie, a TCP port
    CHECK(std::string(web["sites"][1]["kind"].GetString()) == "http");  // no kind stored: a website
    CHECK_THAT(p.get("/").body, Catch::Contains("<span class=\"kind\" data-field=\"kind\">tcp</span>"));
    CHECK(count(p.get("/").body, "data-field=\"kind\"") == 1);  // websites need no tag
    CHECK_THAT(p.get("/sites/charlie").body, Catch::Contains("data-testid=\"kind\">Check: tcp<"));
    REQUIRE(web["groups"].Size() == 2);
    CHECK(std::string(web["groups"][0].GetString()) == "payments");
    auto grouped = p.get("/", {{"group", "payments"}});
    CHECK_THAT(grouped.body, Catch::Contains("<option value=\"payments\" selected>payments</option>"));
    CHECK(count(grouped.body, "data-site=") == 1);
    CHECK(p.get("/api/sites", {{"state", "sideways"}}).status == 400);
    CHECK(p.get("/api/sites", {{"per_page", "501"}}).status == 400);
    CHECK(p.get("/api/sites", {{"page", "0"}}).status == 400);
    CHECK(p.get("/api/sites", {{"page", "2x"}}).status == 400);
    CHECK(p.get("/", {{"state", "sideways"}}).status == 400);
}

TEST_CASE("status page: a site's uptime, response times, 90 days, certificate and incidents", "[integration]") {
    Page p;
    auto d = json(p.get("/api/sites/bravo"));
    CHECK(d["state"] == "down");
    CHECK(d["cause"] == "connect");
    CHECK(d["uptime"]["24h"].GetDouble() == Approx(22.0 / 24));
    CHECK(d["uptime"]["7d"].GetDouble() == Approx(166.0 / 168));
    CHECK(d["uptime"]["30d"].GetDouble() == Approx((29 * 1440 + 1320) / (30.0 * 1440)));
    CHECK(d["uptime"]["90d"].GetDouble() == Approx((89 * 1440 + 1320) / (90.0 * 1440)));
    CHECK(d["checks"]["24h"].GetInt() == 1440);
    // Every check in the bucket from 80.6 to 101.6 ms: the quantiles fall inside it.
    for (const char* q : {"p50", "p95"}) {
        CHECK(d["response_time_ms"]["24h"][q].GetDouble() > 80.6);
        CHECK(d["response_time_ms"]["7d"][q].GetDouble() < 101.6);
    }
    CHECK(d["response_time_ms"]["7d"]["mean"].GetDouble() == Approx(100));
    REQUIRE(d["days"].Size() == 90);
    CHECK(d["days"][89]["ok_checks"].GetInt() == 1320);
    REQUIRE(d["incidents"].Size() == 1);
    CHECK(d["incidents"][0]["to"] == "down");
    CHECK(d["incidents"][0]["reason"] == "3 failed checks in a row: connect: Connection refused");
    auto alpha = json(p.get("/api/sites/alpha"));
    CHECK(alpha["tls_not_after"] == "2027-03-01T00:00:00Z");
    CHECK(alpha["uptime"]["90d"].GetDouble() == 1.0);

    auto html = p.get("/sites/bravo").body;
    CHECK_THAT(html, Catch::Contains("data-testid=\"uptime-24h\">91.67%"));
    CHECK_THAT(html, Catch::Contains("data-testid=\"uptime-30d\">99.72%"));
    CHECK_THAT(html, Catch::Contains("data-testid=\"uptime-90d\">99.91%"));
    CHECK(count(html, "<rect ") == 90);
    CHECK_THAT(html, Catch::Contains("3 failed checks in a row: connect: Connection refused"));
    CHECK_THAT(p.get("/sites/alpha").body, Catch::Contains("data-testid=\"tls\">2027-03-01"));
}

TEST_CASE("status page: a DNS site shows its rcode and answers, a pinged host its loss and round trip",
          "[integration]") {
    Page p;
    pg::query(
        p.db.url(),
        "INSERT INTO site_state (site, url, state, since, kind) VALUES "
        "('resolver', 'dns://192.0.2.53/www.example.com', 'down', now(), 'dns'), "
        "('gateway', 'icmp://192.0.2.1', 'up', now(), 'icmp'); "
        "INSERT INTO metrics (name, url, response_time, \"timestamp\", check_id, ok, kind, rcode, answers) VALUES "
        "('resolver', 'dns://192.0.2.53/www.example.com', 1, now() - interval '1 minute', 'd1', true, 'dns', "
        "'NOERROR', '192.0.2.7'), "
        "('resolver', 'dns://192.0.2.53/www.example.com', 1, now(), 'd2', false, 'dns', 'NOERROR', "
        "'192.0.2.8\n192.0.2.9'); "
        "INSERT INTO metrics (name, url, response_time, \"timestamp\", check_id, ok, kind, packets_sent, "
        "packets_received, packet_loss, rtt_avg_ms) VALUES "
        "('gateway', 'icmp://192.0.2.1', 0.4, now(), 'i1', true, 'icmp', 3, 2, 33.33, 0.42)");
    auto dns = json(p.get("/api/sites/resolver"));
    CHECK(dns["kind"] == "dns");
    CHECK(dns["last_result"]["rcode"] == "NOERROR");
    CHECK(dns["last_result"]["answers"] == "192.0.2.8\n192.0.2.9");  // the latest check's
    CHECK(dns["last_result"]["packet_loss"].IsNull());
    auto dns_html = p.get("/sites/resolver").body;
    CHECK_THAT(dns_html, Catch::Contains("data-testid=\"rcode\">NOERROR<"));
    CHECK_THAT(dns_html, Catch::Contains("data-testid=\"answers\">192.0.2.8 192.0.2.9<"));
    auto ping = json(p.get("/api/sites/gateway"));
    CHECK(ping["last_result"]["packet_loss"].GetDouble() == Approx(33.33));
    CHECK(ping["last_result"]["rtt_avg_ms"].GetDouble() == Approx(0.42));
    CHECK(ping["last_result"]["rcode"].IsNull());
    auto ping_html = p.get("/sites/gateway").body;
    CHECK_THAT(ping_html, Catch::Contains("data-testid=\"packet-loss\">33.3%<"));
    CHECK_THAT(ping_html, Catch::Contains("data-testid=\"rtt\">0.42 ms<"));
    // A website has no such figures.
    CHECK(json(p.get("/api/sites/alpha"))["last_result"]["rcode"].IsNull());
    CHECK(count(p.get("/sites/alpha").body, "Last check</h2>") == 0);
}

TEST_CASE("status page: public hides URLs and error details; unknown sites are 404", "[integration]") {
    Page p;
    for (const auto& path : {"/", "/sites/bravo", "/api/sites", "/api/sites/bravo"}) {
        INFO(path);
        auto a = p.get(path, {}, true);
        REQUIRE(a.status == 200);
        CHECK(count(a.body, "bravo.example") == 0);
        CHECK(count(a.body, "Connection refused") == 0);
    }
    CHECK(p.get("/sites/bravo", {}, true).body.find("connect") != std::string::npos);  // the cause stays
    CHECK(p.get("/sites/nobody").status == 404);
    CHECK(p.get("/api/sites/nobody").status == 404);
    CHECK(p.get("/api/nothing").status == 404);
}

TEST_CASE("status page: served over HTTP with a policy that forbids scripts", "[integration]") {
    Page p;
    View v;
    Server server(p.store, v);
    REQUIRE(server.start("127.0.0.1", 0, 2).ok());
    CURL* curl = curl_easy_init();
    std::string body, headers;
    auto append = +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
    };
    auto url = "http://127.0.0.1:" + std::to_string(server.port()) + "/sites/%3Cscript%3Ealert%281%29%3C%2Fscript%3E";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
    REQUIRE(curl_easy_perform(curl) == CURLE_OK);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    CHECK(code == 200);
    CHECK_THAT(headers, Catch::Contains("Content-Security-Policy: default-src 'none'"));
    CHECK_THAT(body, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
}

TEST_CASE("status page: a role that can only read serves without a warning, and nothing writes through it",
          "[integration]") {
    Page p;
    auto role = "vigil_status_" + p.db.name();
    pg::query(p.db.url(), "CREATE ROLE " + role + " LOGIN PASSWORD 'read-only-secret'");
    struct Drop {
        std::string url, db, role;
        ~Drop() {
            pg::query(url, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " + role +
                               "; REVOKE USAGE ON SCHEMA public FROM " + role + "; REVOKE CONNECT ON DATABASE \"" + db +
                               "\" FROM " + role + "; DROP ROLE " + role);
        }
    } drop{p.db.url(), p.db.name(), role};
    // status/README.md's grants.
    pg::query(p.db.url(), "GRANT CONNECT ON DATABASE \"" + p.db.name() + "\" TO " + role +
                              "; GRANT USAGE ON SCHEMA public TO " + role +
                              "; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role);
    auto url = p.db.url();
    auto at = url.find("://") + 3;
    url.replace(at, url.find('@') - at, role + ":read-only-secret");
    Store reader(vigil::Secret(url), 1);
    std::string warning;
    auto st = reader.check(warning);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(warning.empty());
    std::string writer_warning;
    REQUIRE(p.store.check(writer_warning).ok());
    CHECK_THAT(writer_warning, Catch::Contains("may write the tables it shows"));
    View v;
    Server server(reader, v);
    auto a = server.answer("/api/sites/bravo", [](const char*) -> const char* { return nullptr; });
    CHECK(a.status == 200);
    // Partitions made after the grants are read through the table they belong to.
    pg::query(p.db.url(), "SELECT vigil_day_partition('metrics', current_date + 30)");
    CHECK(server.answer("/api/sites/alpha", [](const char*) -> const char* { return nullptr; }).status == 200);
}

TEST_CASE("hostile: a slow client cannot starve the status page, and a bad query is a 400", "[hostile]") {
    Page p;
    View v;
    Server server(p.store, v);
    REQUIRE(server.start("127.0.0.1", 0, 2, 16).ok());
    int port = server.port();
    // 300 connections from one address, each a request that never ends (slowloris).
    vigil::test::SlowClients slow(port, 300);
    REQUIRE(vigil::test::wait_until([&] { return slow.open() <= 16; }, std::chrono::seconds(5)));
    CHECK(slow.open() >= 1);  // it holds its share, no more
    for (int i = 0; i < 3; ++i) {
        auto [code, took] = vigil::test::timed_get(port, "/healthz");
        CHECK(code == 200);
        CHECK(took < std::chrono::seconds(1));
        slow.trickle();
    }
    // Text PostgreSQL would refuse (and drop the connection over) never reaches it.
    for (int i = 0; i < 4; ++i) {
        CHECK(vigil::test::timed_get(port, "/?q=%FF").first == 400);
        CHECK(vigil::test::timed_get(port, "/api/sites?q=%C3").first == 400);
        CHECK(vigil::test::timed_get(port, "/sites/%FF%FE").first == 400);
    }
    CHECK(vigil::test::timed_get(port, "/?q=" + std::string(600, 'a')).first == 400);
    CHECK(vigil::test::timed_get(port, "/?q=alpha").first == 200);
    CHECK(vigil::test::timed_get(port, "/api/sites?q=%C3%A9").first == 200);
}

TEST_CASE("status page: a partial outage is marked, and the site page has a row per location", "[integration]") {
    Page p;
    load(p.db.url(), "fixture_locations.sql");
    auto overview = p.get("/");
    auto delta = overview.body.find("data-site=\"delta\"");
    REQUIRE(delta != std::string::npos);
    CHECK_THAT(overview.body.substr(delta, 300), Catch::Contains("data-field=\"locations\">partial outage: us</span>"));
    // The site's uptime is over every location: 60 + 30 good of 120 checks an hour.
    CHECK_THAT(overview.body.substr(delta, 600), Catch::Contains("data-field=\"uptime_24h\">75.00%"));

    auto page = p.get("/sites/delta").body;
    auto table = page.find("data-testid=\"locations\"");
    REQUIRE(table != std::string::npos);
    auto row = [&](const std::string& l) {
        auto at = page.find("data-location=\"" + l + "\"", table);
        REQUIRE(at != std::string::npos);
        return page.substr(at, page.find("</tr>", at) - at);
    };
    CHECK_THAT(row("us"), Catch::Contains("data-state=\"down\"") && Catch::Contains("50.00%") &&
                              Catch::Contains("connect: Connection refused"));
    CHECK_THAT(row("eu"), Catch::Contains("data-state=\"up\"") && Catch::Contains("100.00%"));
    CHECK_THAT(row("ap"), Catch::Contains("silent: not voting"));
    CHECK_THAT(page, Catch::Contains("<td>us: <span class=\"pill up\""));  // the location's own incident

    auto api = json(p.get("/api/sites/delta"));
    REQUIRE(api["locations"].Size() == 1);
    CHECK(std::string(api["locations"][0].GetString()) == "us");
    REQUIRE(api["location_states"].Size() == 3);
    CHECK(std::string(api["location_states"][0]["location"].GetString()) == "ap");
    CHECK_FALSE(api["location_states"][0]["voting"].GetBool());
    CHECK(api["location_states"][2]["uptime_24h"].GetDouble() == Approx(0.5));
    CHECK(api["incidents"][0]["location"].IsNull());  // the site's change, then the location's
    CHECK(std::string(api["incidents"][1]["location"].GetString()) == "us");
    // Public: no location's error.
    auto pub = json(p.get("/api/sites/delta", {}, true));
    CHECK_FALSE(pub["location_states"][2].HasMember("last_error"));
    CHECK(p.get("/sites/delta", {}, true).body.find("Connection refused") == std::string::npos);
}
