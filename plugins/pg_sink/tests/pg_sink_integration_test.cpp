// SPDX-License-Identifier: Apache-2.0
// pg_sink against the PostgreSQL of scripts/services, each test in a database of its own.
#include <csignal>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "pg_sink.hpp"
#include "pg_support.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "test_sink.hpp"

namespace pg = vigil::test::pg;
using vigil::plugins::pg_sink::PgSink;

using vigil::test::pg_sink::batch;
using vigil::test::pg_sink::make_sink;
using vigil::test::pg_sink::migrate;
using vigil::test::pg_sink::record;

TEST_CASE("pg_sink: 100,000 records are stored exactly, and the same batch twice stores one row each",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url());
    REQUIRE(sink->start().ok());
    for (int i = 0; i < 20; ++i) {
        auto r = sink->write(batch(i * 5000, 5000, static_cast<std::uint64_t>(i) + 1));
        INFO(r.error);
        REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
        REQUIRE(r.rejected.empty());
    }
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "100000");
    CHECK(pg::scalar(db.url(), "SELECT count(DISTINCT check_id) FROM metrics") == "100000");
    // Redelivered: the first batch again, and one overlapping the end.
    REQUIRE(sink->write(batch(0, 5000)).kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(sink->write(batch(99'000, 2000)).kind == vigil::WriteResult::Kind::Accepted);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "101000");
    CHECK(pg::scalar(db.url(), "SELECT count(*) - count(DISTINCT check_id) FROM metrics") == "0");
    auto row = pg::query(db.url(),
                         "SELECT name, url, response_time, status_code, regex, regex_check, "
                         "to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), agent, ok "
                         "FROM metrics WHERE check_id = '42'");
    REQUIRE(row.size() == 1);
    CHECK(row[0] == std::vector<std::string>{"site-42", "https://example.com/42", "12.5", "200", "Example", "t",
                                             "2027-01-15 08:00:00", "host", "t"});
    sink->stop();
}

TEST_CASE("pg_sink: each bad row goes alone to the dead-letter table with its reason; the good rows land",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    // A deployment's own column types: status as smallint, to have a value out of range.
    pg::query(db.url(), "ALTER TABLE metrics ALTER COLUMN status_code TYPE smallint");
    auto sink = make_sink(db.url());
    REQUIRE(sink->start().ok());
    auto b = batch(0, 10);
    b.records[1].check.name = std::string("nul\0byte", 8);                                    // NUL byte
    b.records[3].check.status_code = 70000;                                                   // out of smallint
    b.records[5].check.timestamp = vigil::Timestamp(std::chrono::seconds(-300'000'000'000));  // before 4713 BC
    b.records[7].check.error_detail = std::string("\xff\xfe not UTF-8");                      // invalid UTF-8
    auto r = sink->write(b);
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.size() == 4);
    std::map<std::size_t, std::string> why;
    for (const auto& rej : r.rejected) {
        CHECK(rej.dead_lettered);
        why[rej.index] = rej.reason;
    }
    CHECK_THAT(why[1], Catch::Contains("SQLSTATE 22021") && Catch::Contains("\"name\" holds a NUL byte"));
    CHECK_THAT(why[3], Catch::Contains("SQLSTATE 22003") && Catch::Contains("status_code"));
    CHECK_THAT(why[5], Catch::StartsWith("SQLSTATE 22"));
    CHECK_THAT(why[7], Catch::Contains("SQLSTATE 22021"));
    CHECK(pg::scalar(db.url(), "SELECT string_agg(check_id, ',' ORDER BY check_id) FROM metrics") == "0,2,4,6,8,9");
    auto dead = pg::query(db.url(),
                          "SELECT check_id, origin, sqlstate, reason, record FROM metrics_rejected ORDER BY check_id");
    REQUIRE(dead.size() == 4);
    CHECK(dead[0][0] == "1");
    CHECK(dead[0][1] == "topic=t partition=0 offset=1");
    CHECK(dead[0][2] == "22021");
    CHECK_THAT(dead[0][4], Catch::Contains("\"name\":\"nul\\u0000byte\""));
    CHECK(dead[1][2] == "22003");
    // Delivered again (a redelivery): still one row each, in both tables.
    REQUIRE(sink->write(b).kind == vigil::WriteResult::Kind::Accepted);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "6");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_rejected") == "4");
}

TEST_CASE("pg_sink: bad rows are found in one pass over the chunk, not one full COPY per bad row", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    pg::query(db.url(), "ALTER TABLE metrics ALTER COLUMN status_code TYPE smallint");
    auto& staged = vigil::counter("vigil_pg_sink_staged_rows_total", {{"instance", "pg_sink.test"}});
    auto before = staged.value();
    auto sink = make_sink(db.url(), "connections: 1\n");
    REQUIRE(sink->start().ok());
    auto b = batch(0, 5000);
    for (int i = 50; i < 5000; i += 100) {
        b.records[static_cast<std::size_t>(i)].check.status_code = 70000;  // out of smallint: 50 bad rows
    }
    auto r = sink->write(b);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(r.rejected.size() == 50);
    sink->stop();
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "4950");
    // The chunk once, then per bad row at most two segments of 128 rows: under 5,000 + 50 x 256.
    // One full COPY per bad row sent some 125,000.
    auto sent = staged.value() - before;
    INFO("rows sent by COPY: " << sent);
    CHECK(sent >= 4950);
    CHECK(sent < 5000 + 50 * 256);
}

TEST_CASE("pg_sink: strings shaped like SQL injection are stored verbatim", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), "connections: 1\n");
    REQUIRE(sink->start().ok());
    const std::vector<std::string> nasty = {
        "'); DROP TABLE metrics; --",
        "\\.",
        "a\tb\nc\\N",
        "\\N",
        "O'Brien \"quoted\" $$dollar$$",
        "🙂 ünïcödé",
        std::string(100'000, 'x'),
        "",
        " leading and trailing ",
    };
    vigil::Batch b;
    b.sequence = 1;
    for (std::size_t i = 0; i < nasty.size(); ++i) {
        auto r = record("n" + std::to_string(i));
        r.error_detail = nasty[i];
        r.regex = nasty[i];
        b.records.push_back({r, {}});
    }
    auto result = sink->write(b);
    INFO(result.error);
    REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(result.rejected.empty());
    for (std::size_t i = 0; i < nasty.size(); ++i) {
        INFO(i);
        CHECK(pg::scalar(db.url(), "SELECT error_detail FROM metrics WHERE check_id = 'n" + std::to_string(i) + "'") ==
              nasty[i]);
    }
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == std::to_string(nasty.size()));
}

TEST_CASE("pg_sink: TLS with verify-full against the services' CA; an untrusted CA is refused", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    REQUIRE_THAT(db.url(), Catch::Contains("sslmode=verify-full"));
    CHECK(make_sink(db.url())->healthcheck().message() == "");
    CHECK(pg::scalar(db.url(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "t");
    auto untrusted = db.url();
    auto at = untrusted.find("sslrootcert=");
    REQUIRE(at != std::string::npos);
    untrusted = untrusted.substr(0, at) + "sslrootcert=" + vigil::test::kafka_untrusted_ca();
    auto st = make_sink(untrusted)->healthcheck();
    CHECK_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("certificate verify failed"));
    auto missing = make_sink(pg::url_for(db.name()), "table: nosuch\n")->healthcheck();
    CHECK_THAT(missing.message(),
               Catch::Contains("table nosuch does not exist (run `agent migrate`, or set migrate: true)"));
}

TEST_CASE(
    "pg_sink: PostgreSQL restarted and killed mid-stream: no row lost, none duplicated, every ack after "
    "COMMIT",
    "[fault]") {
    pg::TestDatabase db;
    vigil::test::TempDir dir;
    auto acks = dir / "acks.txt";
    constexpr int kRecords = 20'000;
    auto file = dir.write(
        "p.yaml", "pipeline: pgfault\nsource:\n  plugin: counting_source\n  count: " + std::to_string(kRecords) +
                      "\n  batch_size: 200\n  interval: 50ms\n  ack_file: " + acks.string() +
                      "\nsinks:\n  - plugin: pg_sink\n    url: \"" + db.url() +
                      "\"\n    migrate: true\n    retry: {initial: 50ms, max: 1s}\n");
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string(), "--once",
                              "--plugin-dir", vigil::test::test_plugin_dir().string()});
    auto acked = [&] { return vigil::test::read_lines(acks).size(); };
    auto services = (vigil::test::source_dir() / "scripts" / "services").string();
    REQUIRE(vigil::test::wait_until([&] { return acked() >= 10; }, std::chrono::seconds(30)));
    REQUIRE(vigil::test::run({services, "restart", "postgres"}, {}, std::chrono::seconds(90)).code == 0);
    auto mid = acked();
    REQUIRE(vigil::test::wait_until([&] { return acked() >= mid + 10; }, std::chrono::seconds(60)));
    REQUIRE(vigil::test::run({services, "kill", "postgres"}).code == 0);
    REQUIRE(vigil::test::run({services, "start", "postgres"}, {}, std::chrono::seconds(90)).code == 0);
    auto code = agent.wait(std::chrono::seconds(120));
    INFO(agent.err());
    REQUIRE(code == 0);
    std::size_t delivered = 0;
    for (const auto& line : vigil::test::read_lines(acks)) {
        std::istringstream in(line);
        std::uint64_t first;
        std::size_t size;
        std::string status;
        in >> first >> size >> status;
        CHECK(status == "delivered");
        delivered += size;
    }
    CHECK(delivered == kRecords);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == std::to_string(kRecords));
    CHECK(pg::scalar(db.url(), "SELECT count(DISTINCT check_id) FROM metrics") == std::to_string(kRecords));
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_rejected") == "0");
    CHECK_THAT(agent.err(), Catch::Contains("recovered after"));
}
