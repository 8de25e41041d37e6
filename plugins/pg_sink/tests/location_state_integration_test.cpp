// SPDX-License-Identifier: Apache-2.0
// pg_sink's per-location state against the PostgreSQL of scripts/services: a site failing from
// one region of several is a partial outage, the quorum makes it down, a silent region leaves the
// vote, and redelivery or two writers at once change none of it.
#include <thread>

#include <catch2/catch.hpp>

#include "pg_support.hpp"
#include "test_sink.hpp"

namespace pg = vigil::test::pg;
using vigil::test::pg_sink::make_sink;
using vigil::test::pg_sink::migrate;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kState = "state:\n  down_after: 3\n  quorum: majority\n  location_timeout: 5m\n";

vigil::CheckRecord check(const std::string& site, const std::string& location, int second, bool good) {
    vigil::CheckRecord r;
    r.name = site;
    r.url = "https://" + site + ".example/";
    r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000 + second));
    r.check_id = site + "-" + location + "-" + std::to_string(second);
    r.agent = "probe-" + location;
    r.location = location;
    r.response_time = 20;
    r.ok = good;
    if (good) {
        r.status_code = 200;
    } else {
        r.error = "connect";
        r.error_detail = "Connection refused";
    }
    return r;
}

// Rounds [from, to) of checks 30 s apart from each location, `good` ones passing, `bad` failing.
vigil::Batch rounds(const std::string& site, int from, int to, const std::vector<std::string>& good,
                    const std::vector<std::string>& bad) {
    vigil::Batch b;
    for (int n = from; n < to; ++n) {
        for (const auto& l : good) {
            b.records.push_back({check(site, l, 30 * n + 1, true), ""});
        }
        for (const auto& l : bad) {
            b.records.push_back({check(site, l, 30 * n + 2, false), ""});
        }
    }
    return b;
}

void write_ok(vigil::test::pg_sink::PgSink& sink, const vigil::Batch& b) {
    auto r = sink.write(b);
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.empty());
}

Rows site_events(const std::string& url) {
    return pg::query(url,
                     "SELECT kind, coalesce(location, '-'), from_state, to_state, coalesce(cause, '-'), "
                     "coalesce((SELECT string_agg(n->>'location', ',') FROM jsonb_array_elements(locations) n), '-') "
                     "FROM site_events ORDER BY id");
}

// Every event without its id and insertion time: what must be the same however written.
Rows all_events(const std::string& url) {
    return pg::query(
        url,
        "SELECT site, kind, coalesce(location, '-'), from_state, to_state, at, check_id, reason, "
        "locations::text, previous_locations::text FROM site_events ORDER BY site, at, check_id, kind, location");
}

}  // namespace

TEST_CASE("pg_sink locations: eu good and us failing is one partial outage and one location down",
          "[integration][locations]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), std::string(kState) + "rollups: {}\n");
    REQUIRE(sink->start().ok());
    // The stream: 20 checks from each, 30 s apart, in batches as a consumer takes them.
    auto stream = rounds("shop", 0, 20, {"eu"}, {"us"});
    for (std::size_t at = 0; at < stream.records.size(); at += 7) {
        auto end = std::min(stream.records.size(), at + 7);
        write_ok(*sink, vigil::Batch{0,
                                     {stream.records.begin() + static_cast<long>(at),
                                      stream.records.begin() + static_cast<long>(end)}});
    }
    CHECK(site_events(db.url()) ==
          Rows{{"location", "us", "up", "down", "connect", "-"}, {"site", "-", "up", "degraded", "partial", "us"}});
    CHECK(pg::query(db.url(), "SELECT state, cause, locations->0->>'detail', last_check_id FROM site_state") ==
          Rows{{"degraded", "partial", "Connection refused", "shop-us-572"}});
    CHECK(
        pg::query(db.url(),
                  "SELECT location, state, voting, consecutive_failures FROM site_location_state ORDER BY location") ==
        Rows{{"eu", "up", "t", "0"}, {"us", "down", "t", "20"}});
    CHECK(pg::scalar(db.url(), "SELECT reason FROM site_events WHERE kind = 'site'") ==
          "down from 1 of 2 voting locations, under the quorum majority: 2: us: connect: Connection refused");

    // ap failing too: 2 of 3 is the majority, the site is down.
    write_ok(*sink, rounds("shop", 20, 24, {"eu"}, {"us", "ap"}));
    CHECK(site_events(db.url()).back() ==
          std::vector<std::string>{"site", "-", "degraded", "down", "connect", "ap,us"});
    CHECK(pg::scalar(db.url(), "SELECT state FROM site_state") == "down");
    // us recovering: degraded again, by ap alone.
    write_ok(*sink, rounds("shop", 24, 27, {"eu", "us"}, {"ap"}));
    CHECK(site_events(db.url()).back() == std::vector<std::string>{"site", "-", "down", "degraded", "partial", "ap"});
    // ap silent past location_timeout: it leaves the vote, and the site is up.
    write_ok(*sink, rounds("shop", 27, 40, {"eu", "us"}, {}));
    auto tail = site_events(db.url());
    REQUIRE(tail.size() >= 2);
    CHECK(tail[tail.size() - 2] == std::vector<std::string>{"location", "ap", "down", "silent", "connect", "-"});
    CHECK(tail.back() == std::vector<std::string>{"site", "-", "degraded", "up", "-", "-"});
    CHECK_THAT(pg::scalar(db.url(), "SELECT reason FROM site_events ORDER BY id DESC LIMIT 1"),
               Catch::StartsWith("ap stopped voting: no check for 5m"));
    CHECK(pg::scalar(db.url(), "SELECT voting FROM site_location_state WHERE location = 'ap'") == "f");
}

TEST_CASE("pg_sink locations: redelivery and two writers at once make exactly the events of one",
          "[integration][locations]") {
    pg::TestDatabase one, two;
    migrate(one.url());
    migrate(two.url());
    // Ten sites, three locations each, failing from some regions for a while.
    vigil::Batch all;
    for (int n = 0; n < 30; ++n) {
        for (int s = 0; s < 10; ++s) {
            auto site = "site" + std::to_string(s);
            for (const auto& l : {"eu", "us", "ap"}) {
                bool failing = (n >= 5 && n < 15 && (l[0] == 'u' || s % 2 == 0)) || (n >= 10 && n < 20 && l[0] == 'a');
                all.records.push_back({check(site, l, 30 * n + (l[0] == 'e' ? 1 : 2), !failing), ""});
            }
        }
    }
    {
        auto sink = make_sink(one.url(), std::string(kState) + "connections: 1\nmax_rows: 100000\n");
        REQUIRE(sink->start().ok());
        write_ok(*sink, all);
    }
    // Two consumers of one group, each owning the partitions of half the sites (keyed by site),
    // writing in batches of their own sizes, at once, with parallel connections; then one of them
    // is handed the first third of everything again (a redelivery after a rebalance).
    vigil::Batch mine[2];
    for (const auto& r : all.records) {
        mine[std::hash<std::string>{}(r.check.name) % 2].records.push_back(r);
    }
    auto consume = [&](const vigil::Batch& records, std::size_t batch_size) {
        auto sink = make_sink(two.url(), std::string(kState) + "connections: 3\nmax_rows: 50\n");
        REQUIRE(sink->start().ok());
        for (std::size_t at = 0; at < records.records.size(); at += batch_size) {
            auto end = std::min(records.records.size(), at + batch_size);
            write_ok(*sink, vigil::Batch{0,
                                         {records.records.begin() + static_cast<long>(at),
                                          records.records.begin() + static_cast<long>(end)}});
        }
    };
    std::thread other([&] { consume(mine[1], 97); });
    consume(mine[0], 133);
    other.join();
    consume(vigil::Batch{0, {all.records.begin(), all.records.begin() + static_cast<long>(all.records.size() / 3)}},
            61);
    auto expected = all_events(one.url());
    CHECK(expected.size() > 20);
    CHECK(all_events(two.url()) == expected);
    auto states = "SELECT site, state, cause, locations::text, last_check_id FROM site_state ORDER BY site";
    CHECK(pg::query(two.url(), states) == pg::query(one.url(), states));
    auto locations =
        "SELECT site, location, state, voting, consecutive_failures, last_check_id FROM "
        "site_location_state ORDER BY site, location";
    CHECK(pg::query(two.url(), locations) == pg::query(one.url(), locations));
}
