// SPDX-License-Identifier: Apache-2.0
// pg_sink's `rollups:` and `retention:` against the PostgreSQL of scripts/services: the hourly
// and daily sums are those of the stored rows, whatever is redelivered or written by two sinks
// at once; day partitions are made ahead, a row for a day without one is kept, old days dropped.
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include "pg_support.hpp"
#include "test_sink.hpp"

namespace pg = vigil::test::pg;
using vigil::test::pg_sink::make_sink;
using vigil::test::pg_sink::migrate;

namespace {

vigil::CheckRecord check(const std::string& site, int n) {
    vigil::CheckRecord r;
    r.name = site;
    r.url = "https://" + site + ".example/";
    r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000 + 72 * n));  // 50 an hour
    r.check_id = fmt::format("{}-{}", site, n);
    r.agent = "host";
    r.response_time = 0.5 + (n * 37 % 900);
    if (n % 7 == 3) {
        r.ok = false;
        r.error = "timeout";
    } else if (n % 11 == 5) {
        r.status_code = 302;  // a record without ok (the original seven fields): good by its status
    } else {
        r.ok = true;
        r.status_code = 200;
    }
    return r;
}

vigil::Batch checks(int sites, int from, int to) {
    vigil::Batch b;
    for (int n = from; n < to; ++n) {
        for (int s = 0; s < sites; ++s) {
            b.records.push_back({check("site" + std::to_string(s), n), ""});
        }
    }
    return b;
}

void write_ok(vigil::test::pg_sink::PgSink& sink, const vigil::Batch& b) {
    auto r = sink.write(b);
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
}

// The sums of `period` ("hour", "day") as the stored rows make them, in the rollup's columns.
std::string from_rows(const std::string& period) {
    return fmt::format(
        "SELECT name, bucket, sum(n)::int, sum(o)::int, round(sum(s)::numeric, 6), min(mi), max(ma), "
        "vigil_hist_sum(array_fill(0, ARRAY[k]) || n::integer || array_fill(0, ARRAY[47 - k]))::text "
        "FROM (SELECT name, date_trunc('{}', \"timestamp\", 'UTC') AS bucket, "
        "least(greatest(floor(3 * log(greatest(response_time, 1)::numeric) / log(2::numeric)), 0), 47)::integer "
        "AS k, count(*) AS n, count(*) FILTER (WHERE coalesce(ok, status_code BETWEEN 200 AND 399, false)) AS o, "
        "sum(response_time) AS s, min(response_time) AS mi, max(response_time) AS ma FROM metrics GROUP BY 1, 2, 3) "
        "x GROUP BY 1, 2 ORDER BY 1, 2",
        period);
}
std::string from_rollup(const std::string& table) {
    return "SELECT name, bucket, checks, ok_checks, round(response_time_sum::numeric, 6), response_time_min, "
           "response_time_max, histogram::text FROM " +
           table + " ORDER BY 1, 2";
}

void require_rollups_match_rows(const std::string& url) {
    // The daily sums are the hourly ones', summed again for the days marked (the upkeep's job).
    CHECK(pg::scalar(url, "SELECT count(*) FROM metrics_days_dirty") != "0");
    pg::query(url, "SELECT vigil_roll_up_days('metrics', '2000-01-01')");
    CHECK(pg::scalar(url, "SELECT count(*) FROM metrics_days_dirty") == "0");
    auto hourly = pg::query(url, from_rollup("metrics_hourly"));
    REQUIRE(hourly.size() > 1);
    CHECK(hourly == pg::query(url, from_rows("hour")));
    auto daily = pg::query(url, from_rollup("metrics_daily"));
    REQUIRE_FALSE(daily.empty());
    CHECK(daily == pg::query(url, from_rows("day")));
}

}  // namespace

TEST_CASE("pg_sink rollups: hourly and daily sums are the rows', and a redelivery changes none", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), "rollups: {}\n");
    REQUIRE(sink->start().ok());
    write_ok(*sink, checks(3, 0, 100));
    write_ok(*sink, checks(3, 100, 200));
    auto once = pg::query(db.url(), from_rollup("metrics_hourly"));
    // Redelivered: the whole range again, and a part of it in another order.
    write_ok(*sink, checks(3, 0, 200));
    auto part = checks(3, 50, 120);
    std::reverse(part.records.begin(), part.records.end());
    write_ok(*sink, part);
    CHECK(pg::query(db.url(), from_rollup("metrics_hourly")) == once);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "600");
    CHECK(pg::scalar(db.url(), "SELECT sum(checks) FROM metrics_hourly") == "600");
    require_rollups_match_rows(db.url());
    CHECK(pg::scalar(db.url(), "SELECT sum(checks) FROM metrics_daily") == "600");
    // Summing a day again changes nothing.
    auto daily = pg::query(db.url(), from_rollup("metrics_daily"));
    pg::query(db.url(), "INSERT INTO metrics_days_dirty SELECT DISTINCT bucket::date FROM metrics_daily");
    pg::query(db.url(), "SELECT vigil_roll_up_days('metrics', '2000-01-01')");
    CHECK(pg::query(db.url(), from_rollup("metrics_daily")) == daily);
    // p50 and p95 read from the histogram are within a bucket's half width (13%) of the rows'.
    CHECK(pg::scalar(db.url(),
                     "SELECT bool_and(abs(vigil_hist_quantile(h.histogram, q) / r.p - 1) < 0.13) FROM metrics_hourly h "
                     "CROSS JOIN (VALUES (0.5), (0.95)) AS qs(q) JOIN LATERAL (SELECT percentile_cont(q) WITHIN "
                     "GROUP (ORDER BY response_time) AS p FROM metrics m WHERE m.name = h.name AND "
                     "date_trunc('hour', m.\"timestamp\", 'UTC') = h.bucket) r ON true") == "t");
}

TEST_CASE("pg_sink rollups: two sinks writing overlapping checks at once count each check once", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto a = make_sink(db.url(), "rollups: {}\nconnections: 2\n");
    auto b = make_sink(db.url(), "rollups: {}\nconnections: 2\n");
    REQUIRE(a->start().ok());
    REQUIRE(b->start().ok());
    // Both write every check (a rebalance's overlap, twice over), in slices that interleave.
    auto run = [](vigil::test::pg_sink::PgSink& sink, int step) {
        for (int from = 0; from < 300; from += step) {
            auto r = sink.write(checks(20, from, std::min(300, from + step)));
            if (r.kind != vigil::WriteResult::Kind::Accepted) {
                return r.error;
            }
        }
        return std::string();
    };
    std::string error_a, error_b;
    std::thread t([&] { error_a = run(*a, 30); });
    error_b = run(*b, 45);
    t.join();
    CHECK(error_a.empty());
    CHECK(error_b.empty());
    CHECK(pg::scalar(db.url(), "SELECT sum(checks) FROM metrics_hourly") == "6000");
    require_rollups_match_rows(db.url());
}

TEST_CASE("pg_sink rollups: without the rollup tables, start says what to run", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    pg::query(db.url(), "DROP TABLE metrics_daily");
    auto sink = make_sink(db.url(), "rollups: {}\n");
    auto st = sink->start();
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("`rollups:` needs the table metrics_daily (run `agent migrate`"));
}

TEST_CASE("pg_sink retention: days made ahead, a row of a day without a partition kept, old days dropped",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto day = [&](int offset) {
        return pg::scalar(db.url(),
                          fmt::format("SELECT to_char((now() AT TIME ZONE 'UTC')::date + {}, 'YYYYMMDD')", offset));
    };
    auto exists = [&](const std::string& table) {
        return pg::scalar(db.url(), "SELECT to_regclass('" + table + "') IS NOT NULL") == "t";
    };
    auto sink = make_sink(db.url(), "retention: 3d\nrollups: {hourly_retention: 2d, daily_retention: 5d}\n");
    REQUIRE(sink->start().ok());
    for (int d : {-1, 0, 1, 2}) {
        INFO(d);
        CHECK(exists("metrics_p" + day(d)));
    }
    CHECK_FALSE(exists("metrics_p" + day(3)));
    // Checks of now, of 10 days ago and of 20 days ahead: the last two have no partition.
    auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    vigil::Batch b;
    for (int offset : {0, -10, 20}) {
        auto c = check("site", offset + 100);
        c.timestamp = vigil::Timestamp(now.time_since_epoch()) + std::chrono::days(offset);
        b.records.push_back({c, ""});
    }
    write_ok(*sink, b);
    write_ok(*sink, b);  // and again: the default partition deduplicates too
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "3");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_default") == "2");
    // Their days' partitions made later take their rows out of the default one.
    pg::query(db.url(),
              "SELECT vigil_day_partition('metrics', ((now() AT TIME ZONE 'UTC') + interval '20 days')::date)");
    pg::query(db.url(),
              "SELECT vigil_day_partition('metrics', ((now() AT TIME ZONE 'UTC') - interval '10 days')::date)");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_default") == "0");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_p" + day(20)) == "1");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_p" + day(-10)) == "1");
    // The upkeep (at start, then hourly) drops the day older than the retention and its rollups.
    REQUIRE(sink->start().ok());
    CHECK_FALSE(exists("metrics_p" + day(-10)));
    CHECK(exists("metrics_p" + day(-1)));
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "2");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_hourly WHERE bucket < now() - interval '2 days'") == "0");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_daily WHERE bucket < now() - interval '5 days'") == "0");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_daily") == "2");
}

TEST_CASE("pg_sink: a partitioned table gets its days made ahead without a retention too", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto ahead = pg::scalar(db.url(), "SELECT to_char((now() AT TIME ZONE 'UTC')::date + 2, 'YYYYMMDD')");
    pg::query(db.url(), "DROP TABLE metrics_p" + ahead);  // as if the migration had run days ago
    auto sink = make_sink(db.url());
    REQUIRE(sink->start().ok());
    CHECK(pg::scalar(db.url(), "SELECT to_regclass('metrics_p" + ahead + "') IS NOT NULL") == "t");
}

TEST_CASE("pg_sink retention: a table that is not partitioned is refused at start", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    pg::query(db.url(), "CREATE TABLE plain (LIKE metrics INCLUDING DEFAULTS, UNIQUE (check_id))");
    auto sink = make_sink(db.url(), "table: plain\nretention: 30d\n");
    auto st = sink->start();
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("`retention:` needs table plain partitioned by day"));
}
