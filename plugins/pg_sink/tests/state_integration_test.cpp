// SPDX-License-Identifier: Apache-2.0
// pg_sink's `state:` against the PostgreSQL of scripts/services: site_state and site_events
// move with the rows, exactly once, whatever is redelivered or written by two sinks at once.
#include <thread>

#include <catch2/catch.hpp>

#include "pg_support.hpp"
#include "test_sink.hpp"

namespace pg = vigil::test::pg;
using vigil::test::pg_sink::make_sink;
using vigil::test::pg_sink::migrate;

namespace {

constexpr const char* kState = "state:\n  down_after: 3\n  up_after: 2\n";

vigil::CheckRecord check(const std::string& site, int n, bool good) {
    vigil::CheckRecord r;
    r.name = site;
    r.url = "https://" + site + ".example/";
    r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000 + 10 * n));
    r.check_id = site + "-" + std::to_string(100000 + n);
    r.agent = "host";
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

// `n` checks per site for `sites` sites, interleaved as a topic would hold them: each site fails
// its checks [fail_from, fail_to) and passes the rest.
vigil::Batch checks(int sites, int from, int to, int fail_from, int fail_to) {
    vigil::Batch b;
    for (int n = from; n < to; ++n) {
        for (int s = 0; s < sites; ++s) {
            bool good = n < fail_from || n >= fail_to || (s % 3 == 1 && n % 2 == 0);
            b.records.push_back({check("site" + std::to_string(s), n, good), ""});
        }
    }
    return b;
}

// The events without their ids and insertion times: what must be the same however written.
std::vector<std::vector<std::string>> events(const std::string& url) {
    return pg::query(url,
                     "SELECT site, from_state, to_state, at, since, check_id, reason, coalesce(cause, '-'), "
                     "coalesce(previous_cause, '-') FROM site_events ORDER BY site, at");
}

void write_ok(vigil::test::pg_sink::PgSink& sink, const vigil::Batch& b) {
    auto r = sink.write(b);
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.empty());
}

}  // namespace

TEST_CASE("pg_sink state: three failures make one down event, two good checks one up event", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), kState);
    REQUIRE(sink->start().ok());
    vigil::Batch b;
    for (int n = 0; n < 2; ++n) {
        b.records.push_back({check("shop", n, true), ""});
    }
    write_ok(*sink, b);
    CHECK(pg::scalar(db.url(), "SELECT state FROM site_state WHERE site = 'shop'") == "up");
    for (int n = 2; n < 5; ++n) {
        auto c = check("shop", n, false);
        c.group = "payments";  // the latest check's group and kind are the site's
        c.kind = "tcp";
        write_ok(*sink, vigil::Batch{0, {{c, ""}}});
    }
    CHECK(pg::scalar(db.url(), "SELECT site_group FROM site_state WHERE site = 'shop'") == "payments");
    CHECK(pg::scalar(db.url(), "SELECT kind FROM site_state WHERE site = 'shop'") == "tcp");
    auto down =
        pg::query(db.url(), "SELECT from_state, to_state, check_id, reason, cause FROM site_events ORDER BY id");
    REQUIRE(down.size() == 1);
    CHECK(down[0] == std::vector<std::string>{"up", "down", "shop-100004",
                                              "3 failed checks in a row: connect: Connection refused", "connect"});
    auto state = pg::query(db.url(),
                           "SELECT state, consecutive_failures, last_check_id, last_error, cause, "
                           "since = to_timestamp(1800000040) FROM site_state");
    CHECK(state[0] == std::vector<std::string>{"down", "3", "shop-100004", "connect", "connect", "t"});
    write_ok(*sink, vigil::Batch{0, {{check("shop", 5, true), ""}, {check("shop", 6, true), ""}}});
    auto all = pg::query(db.url(), "SELECT from_state, to_state, previous_cause FROM site_events ORDER BY id");
    REQUIRE(all.size() == 2);
    CHECK(all[1] == std::vector<std::string>{"down", "up", "connect"});
    CHECK(pg::scalar(db.url(), "SELECT state FROM site_state") == "up");
    CHECK(vigil::counter("vigil_pg_sink_site_events_total", {{"instance", "pg_sink.test"}}).value() >= 2);
}

TEST_CASE("pg_sink state: a redelivery, even from earlier offsets, makes no second event or change", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), kState);
    REQUIRE(sink->start().ok());
    auto all = checks(5, 0, 20, 5, 12);
    write_ok(*sink, all);
    auto before = events(db.url());
    auto state = pg::query(db.url(), "SELECT * FROM site_state ORDER BY site");
    REQUIRE(before.size() == 6);  // sites 0, 2 and 3 go down and up; 1 and 4 never fail 3 in a row
    // A consumer restarted from earlier offsets: the middle of the stream again, in two pieces,
    // and a straggler: a check older than the last one, under a new id, which must not flip.
    auto again = checks(5, 4, 20, 5, 12);
    vigil::Batch half{0, {again.records.begin(), again.records.begin() + 40}};
    vigil::Batch rest{0, {again.records.begin() + 40, again.records.end()}};
    write_ok(*sink, half);
    write_ok(*sink, rest);
    auto late = check("site0", 15, false);
    late.check_id = "site0-late";
    write_ok(*sink, vigil::Batch{0, {{late, ""}}});
    CHECK(events(db.url()) == before);
    auto after = pg::query(db.url(), "SELECT * FROM site_state ORDER BY site");
    REQUIRE(after.size() == state.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        after[i].pop_back();  // updated_at moves with every write that touches a site
        state[i].pop_back();
        CHECK(after[i] == state[i]);
    }
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics WHERE check_id = 'site0-late'") == "1");
}

TEST_CASE("pg_sink state: two sinks splitting the sites write exactly the events of one", "[integration]") {
    pg::TestDatabase one, two;
    migrate(one.url());
    migrate(two.url());
    auto all = checks(40, 0, 30, 8, 20);
    {
        auto sink = make_sink(one.url(), std::string(kState) + "connections: 1\nmax_rows: 100000\n");
        REQUIRE(sink->start().ok());
        write_ok(*sink, all);
    }
    // Two consumers of one group, each owning the partitions of half the sites, writing the
    // same stream in batches of their own sizes, at once, each with parallel connections.
    vigil::Batch mine[2];
    for (const auto& r : all.records) {
        mine[std::hash<std::string>{}(r.check.name) % 2].records.push_back(r);
    }
    auto consume = [&](int k, std::size_t batch_size) {
        auto sink = make_sink(two.url(), std::string(kState) + "connections: 3\nmax_rows: 100\n");
        REQUIRE(sink->start().ok());
        for (std::size_t at = 0; at < mine[k].records.size(); at += batch_size) {
            auto end = std::min(mine[k].records.size(), at + batch_size);
            write_ok(*sink, vigil::Batch{0,
                                         {mine[k].records.begin() + static_cast<long>(at),
                                          mine[k].records.begin() + static_cast<long>(end)}});
        }
    };
    std::thread other([&] { consume(1, 97); });
    consume(0, 333);
    other.join();
    auto expected = events(one.url());
    CHECK(expected.size() > 40);
    CHECK(events(two.url()) == expected);
    CHECK(pg::query(two.url(), "SELECT site, state, last_check_id FROM site_state ORDER BY site") ==
          pg::query(one.url(), "SELECT site, state, last_check_id FROM site_state ORDER BY site"));
}

TEST_CASE("pg_sink state: a site matching a sites: glob takes its thresholds", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), std::string(kState) + "  sites:\n    - match: \"pay*\"\n      down_after: 1\n");
    REQUIRE(sink->start().ok());
    write_ok(*sink, vigil::Batch{0, {{check("payments", 0, false), ""}, {check("shop", 0, false), ""}}});
    CHECK(pg::scalar(db.url(), "SELECT string_agg(site || '=' || state, ',' ORDER BY site) FROM site_state") ==
          "payments=down,shop=up");
}

TEST_CASE("pg_sink state: without the tables, start says which to create", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    pg::query(db.url(), "DROP TABLE site_events");
    auto sink = make_sink(db.url(), kState);
    auto st = sink->start();
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(
        st.message(),
        Catch::Contains("`state:` needs the tables site_state (with site_group and kind), site_location_state and "
                        "site_events (run `agent migrate`"));
}

TEST_CASE("pg_sink state: a state another writer moved since this one cached it is read again, not overwritten",
          "[integration]") {
    pg::TestDatabase one, two;
    migrate(one.url());
    migrate(two.url());
    auto all = checks(3, 0, 12, 2, 7);
    auto part = [&](int from, int to) {
        return vigil::Batch{0, {all.records.begin() + from * 3, all.records.begin() + to * 3}};
    };
    {
        auto sink = make_sink(one.url(), kState);
        REQUIRE(sink->start().ok());
        write_ok(*sink, all);
    }
    // Two sinks of their own (two consumers, each with its cache) taking turns on the same sites,
    // as the old and the new owner of a partition do across a rebalance.
    auto a = make_sink(two.url(), kState);
    auto b = make_sink(two.url(), kState);
    REQUIRE(a->start().ok());
    REQUIRE(b->start().ok());
    write_ok(*a, part(0, 4));
    write_ok(*b, part(4, 6));
    write_ok(*a, part(6, 9));  // a's cache still holds the states after check 3
    write_ok(*b, part(9, 12));
    CHECK(events(two.url()) == events(one.url()));
    CHECK(pg::query(two.url(), "SELECT * FROM site_state ORDER BY site").size() == 3);
    CHECK(pg::query(two.url(),
                    "SELECT site, state, consecutive_failures, consecutive_successes, last_check_id "
                    "FROM site_state ORDER BY site") ==
          pg::query(one.url(),
                    "SELECT site, state, consecutive_failures, consecutive_successes, last_check_id "
                    "FROM site_state ORDER BY site"));
}
