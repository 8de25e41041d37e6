// SPDX-License-Identifier: Apache-2.0
// `agent migrate` against the real server, each test in a database of its own.
#include <catch2/catch.hpp>

#include <map>

#include "pg_support.hpp"
#include "vigil/record_fields.hpp"
#include "support.hpp"

namespace pg = vigil::test::pg;
using vigil::test::run;

namespace {
vigil::test::RunResult migrate(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{vigil::test::agent_binary().string(), "migrate", "--database-url", url};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
}
// Rolls migrations back until `version` is the latest applied: tests of one migration's data
// path start from the schema before it, however many migrations come later.
void roll_back_to(const std::string& url, std::string_view version) {
    while (pg::scalar(url, "SELECT max(version) FROM schema_migrations") > version) {
        auto down = migrate(url, {"--down"});
        INFO(down.err);
        REQUIRE(down.code == 0);
    }
}
std::string tables(const std::string& url) {
    std::string out;
    // Partitions are the partitioned table's business, not a table of their own here.
    for (const auto& row : pg::query(url,
                                     "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                     "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                                     "ORDER BY 1")) {
        out += row[0] + " ";
    }
    return out;
}
constexpr const char* kAllTables =
    "metrics metrics_daily metrics_days_dirty metrics_hourly metrics_rejected schema_migrations site_events "
    "site_events_cursors "
    "site_state ";
}  // namespace

TEST_CASE("migrate: up, status, down, up again, recorded as dbmate records them", "[integration]") {
    pg::TestDatabase db;
    auto status = migrate(db.url(), {"--status"});
    CHECK(status.code == 0);
    CHECK(status.out ==
          "[ ] 20261128000000_create_metrics.sql\n[ ] 20261128000100_create_metrics_rejected.sql\n"
          "[ ] 20261202000000_create_site_state.sql\n[ ] 20261205000000_add_attempts_excerpt_location.sql\n"
          "[ ] 20261206000000_partition_metrics.sql\n[ ] 20261206000100_create_rollups.sql\n"
          "[ ] 20261206000200_add_group.sql\n[ ] 20261207000000_create_site_location_state.sql\n"
          "[ ] 20261207000100_rollups_per_location.sql\n[ ] 20261207000200_add_kind.sql\n"
          "[ ] 20261207000300_add_check_kind_fields.sql\n\n"
          "Applied: 0\nPending: 11\n");
    auto up = migrate(db.url());
    INFO(up.err);
    REQUIRE(up.code == 0);
    CHECK(up.out ==
          "applying 20261128000000_create_metrics.sql\napplying 20261128000100_create_metrics_rejected.sql\n"
          "applying 20261202000000_create_site_state.sql\napplying 20261205000000_add_attempts_excerpt_location.sql\n"
          "applying 20261206000000_partition_metrics.sql\napplying 20261206000100_create_rollups.sql\n"
          "applying 20261206000200_add_group.sql\napplying 20261207000000_create_site_location_state.sql\n"
          "applying 20261207000100_rollups_per_location.sql\napplying 20261207000200_add_kind.sql\n"
          "applying 20261207000300_add_check_kind_fields.sql\n"
          "applied 11 migration(s); the database is up to date\n");
    CHECK(tables(db.url()) == kAllTables);
    CHECK(pg::scalar(db.url(), "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations") ==
          "20261128000000,20261128000100,20261202000000,20261205000000,20261206000000,20261206000100,"
          "20261206000200,20261207000000,20261207000100,20261207000200,20261207000300");
    // dbmate's own table shape, so dbmate keeps working on the same database.
    CHECK(pg::scalar(db.url(),
                     "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                     "'schema_migrations'::regclass AND attname = 'version'") == "character varying(128)");
    CHECK(migrate(db.url()).out == "the database is up to date\n");

    auto down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261207000300_add_check_kind_fields.sql\nrolled back 20261207000300\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261207000200_add_kind.sql\nrolled back 20261207000200\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261207000100_rollups_per_location.sql\nrolled back 20261207000100\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261207000000_create_site_location_state.sql\nrolled back 20261207000000\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261206000200_add_group.sql\nrolled back 20261206000200\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261206000100_create_rollups.sql\nrolled back 20261206000100\n");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261206000000_partition_metrics.sql\nrolled back 20261206000000\n");
    CHECK(pg::scalar(db.url(), "SELECT relkind FROM pg_class WHERE relname = 'metrics'") == "r");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261205000000_add_attempts_excerpt_location.sql\nrolled back 20261205000000\n");
    CHECK(pg::scalar(db.url(),
                     "SELECT count(*) FROM information_schema.columns WHERE table_name = 'metrics' AND "
                     "column_name IN ('attempts', 'body_excerpt', 'response_headers', 'location')") == "0");
    down = migrate(db.url(), {"--down"});
    CHECK(down.code == 0);
    CHECK(down.out == "rolling back 20261202000000_create_site_state.sql\nrolled back 20261202000000\n");
    CHECK(tables(db.url()) == "metrics metrics_rejected schema_migrations ");
    REQUIRE(migrate(db.url(), {"--down"}).code == 0);
    CHECK(tables(db.url()) == "metrics schema_migrations ");
    REQUIRE(migrate(db.url(), {"--down"}).code == 0);
    CHECK(tables(db.url()) == "schema_migrations ");
    auto none = migrate(db.url(), {"--down"});
    CHECK(none.code == 1);
    CHECK(none.err == "agent migrate: error: no migration is applied: nothing to roll back\n");
    REQUIRE(migrate(db.url()).code == 0);
    CHECK(tables(db.url()) == kAllTables);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM pg_indexes WHERE indexname = 'metrics_name_timestamp_idx'") ==
          "1");
}

TEST_CASE("migrate: an existing metrics table becomes partitioned by day with every row, id and rollup",
          "[integration]") {
    pg::TestDatabase db;
    REQUIRE(migrate(db.url()).code == 0);
    roll_back_to(db.url(), "20261205000000");  // before the partitioning
    // 10 days of a site every 15 minutes, one check with a far date, and a gap in the ids.
    pg::query(db.url(),
              "INSERT INTO metrics (name, url, response_time, status_code, \"timestamp\", check_id, ok) "
              "SELECT 'site' || (i % 3), 'https://x/', i % 500, 200, '2026-11-20'::timestamptz + i * interval '15 "
              "minutes', 'c' || i, i % 10 <> 0 FROM generate_series(1, 960) i");
    pg::query(db.url(), "DELETE FROM metrics WHERE check_id = 'c5'");
    pg::query(db.url(),
              "INSERT INTO metrics (name, url, response_time, \"timestamp\", check_id) "
              "VALUES ('old', 'https://old/', 12, '1999-12-31 23:59:59+00', 'old1')");
    // Every column of every row (the later migrations' columns aside: they are new).
    constexpr const char* kRows =
        "SELECT md5(string_agg((to_jsonb(m) - ARRAY['group', 'kind', 'rcode', 'answers', 'packets_sent', "
        "'packets_received', 'packet_loss', 'rtt_min_ms', 'rtt_avg_ms', 'rtt_max_ms', 'rtt_stddev_ms', 'tls_version', "
        "'tls_cipher', 'tls_issuer', 'ocsp_status'])::text, '|' "
        "ORDER BY id)) FROM metrics m";
    auto before = pg::scalar(db.url(), kRows);
    auto next_id = pg::scalar(db.url(), "SELECT max(id) + 1 FROM metrics");
    REQUIRE(migrate(db.url()).code == 0);
    CHECK(pg::scalar(db.url(), "SELECT relkind FROM pg_class WHERE relname = 'metrics'") == "p");
    CHECK(pg::scalar(db.url(), kRows) == before);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_default") == "0");
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics_p19991231") == "1");
    CHECK(pg::scalar(db.url(),
                     "INSERT INTO metrics (name, url, response_time, \"timestamp\", check_id) "
                     "VALUES ('n', 'u', 1, now(), 'new') RETURNING id") == next_id);
    // The rollups start from the rows already there.
    CHECK(pg::scalar(db.url(), "SELECT sum(checks) FROM metrics_hourly") == "960");
    CHECK(pg::scalar(db.url(), "SELECT sum(checks) || '/' || sum(ok_checks) FROM metrics_daily") == "960/863");
    CHECK(pg::scalar(db.url(), "SELECT count(DISTINCT bucket) FROM metrics_daily") == "12");
}

TEST_CASE("migrate: two agents migrating at once apply each migration once", "[integration]") {
    pg::TestDatabase db;
    std::vector<std::string> argv{vigil::test::agent_binary().string(), "migrate", "--database-url", db.url()};
    vigil::test::Child a(argv), b(argv);
    CHECK(a.wait() == 0);
    CHECK(b.wait() == 0);
    INFO(a.out() << b.out() << a.err() << b.err());
    // Between them the two runs applied each migration exactly once.
    auto applied = [](const std::string& out) {
        std::size_t n = 0;
        for (auto p = out.find("applying "); p != std::string::npos; p = out.find("applying ", p + 1))
            ++n;
        return n;
    };
    CHECK(applied(a.out()) + applied(b.out()) == 11);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM schema_migrations") == "11");
}

TEST_CASE("migrate: each site's state and events become those of the location that names none", "[integration]") {
    pg::TestDatabase db;
    REQUIRE(migrate(db.url()).code == 0);
    roll_back_to(db.url(), "20261206000200");  // back to one state per site
    pg::query(db.url(),
              "INSERT INTO site_state (site, url, state, since, cause, consecutive_failures, last_check_id, "
              "last_timestamp, last_error, last_error_detail) VALUES "
              "('shop', 'https://shop/', 'down', '2026-12-01T00:00:00Z', 'connect', 4, 'c4', '2026-12-01T00:01:30Z', "
              "'connect', 'Connection refused'), "
              "('blog', 'https://blog/', 'up', '2026-12-01T00:00:00Z', NULL, 0, 'b9', '2026-12-01T00:04:00Z', NULL, "
              "NULL)");
    pg::query(db.url(),
              "INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause, "
              "previous_cause, error_detail) VALUES ('shop', 'https://shop/', 'up', 'down', '2026-12-01T00:01:00Z', "
              "'2026-12-01T00:00:00Z', 'c3', 'three', 'connect', NULL, 'Connection refused')");
    auto before = pg::query(db.url(), "SELECT * FROM site_state ORDER BY site");
    REQUIRE(migrate(db.url()).code == 0);
    CHECK(
        pg::query(db.url(),
                  "SELECT site, location, state, cause, voting, consecutive_failures, last_check_id, last_error_detail "
                  "FROM site_location_state ORDER BY site") ==
        std::vector<std::vector<std::string>>{{"blog", "", "up", "", "t", "0", "b9", ""},
                                              {"shop", "", "down", "connect", "t", "4", "c4", "Connection refused"}});
    CHECK(pg::scalar(db.url(), "SELECT locations::text FROM site_state WHERE site = 'shop'") ==
          R"([{"cause": "connect", "state": "down", "detail": "Connection refused", "location": ""}])");
    CHECK(pg::scalar(db.url(), "SELECT locations::text FROM site_state WHERE site = 'blog'") == "[]");
    CHECK(pg::query(db.url(),
                    "SELECT kind, coalesce(location, '-'), locations->0->>'location', "
                    "previous_locations::text FROM site_events") ==
          std::vector<std::vector<std::string>>{{"site", "-", "", "{}"}});
    // Down again: the location's rows go, the site's stay as they were.
    roll_back_to(db.url(), "20261206000200");
    CHECK(pg::query(db.url(), "SELECT * FROM site_state ORDER BY site") == before);
}

TEST_CASE("migrate: a failing migration names file:line and leaves the database as it was", "[integration]") {
    pg::TestDatabase db;
    vigil::test::TempDir dir;
    dir.write("001_good.sql", "-- migrate:up\nCREATE TABLE good (id int);\n-- migrate:down\nDROP TABLE good;\n");
    dir.write("002_bad.sql",
              "-- migrate:up\nCREATE TABLE half (id int);\n\nSELEC 1;\n-- migrate:down\nDROP TABLE half;\n");
    auto r = migrate(db.url(), {"--dir", dir.path().string()});
    CHECK(r.code == 1);
    CHECK(r.err ==
          "agent migrate: error: 002_bad.sql:4: syntax error at or near \"SELEC\" (SQLSTATE 42601); rolled "
          "back: the database is as it was before this migration\n");
    CHECK(tables(db.url()) == "good schema_migrations ");
    CHECK(pg::scalar(db.url(), "SELECT string_agg(version, ',') FROM schema_migrations") == "001");
    dir.write("003_nodown.sql", "CREATE TABLE x (id int);\n");
    auto bad_file = migrate(db.url(), {"--dir", dir.path().string()});
    CHECK(bad_file.code == 1);
    CHECK_THAT(bad_file.err, Catch::Contains("003_nodown.sql: no \"-- migrate:up\" section"));
}

TEST_CASE("migrate: the URL comes from DATABASE_URL or --database-url-file, never needing argv", "[integration]") {
    pg::TestDatabase db;
    vigil::test::TempDir dir;
    auto file = dir.write("url", db.url() + "\n");
    auto from_file =
        run({vigil::test::agent_binary().string(), "migrate", "--database-url-file", file.string(), "--status"});
    INFO(from_file.err);
    CHECK(from_file.code == 0);
    CHECK(from_file.out.find("Pending: 11") != std::string::npos);
    auto from_env = run({vigil::test::agent_binary().string(), "migrate"}, {{"DATABASE_URL", db.url()}});
    INFO(from_env.err);
    CHECK(from_env.code == 0);
    CHECK(tables(db.url()) == kAllTables);
    auto missing =
        run({vigil::test::agent_binary().string(), "migrate", "--database-url-file", (dir / "none").string()});
    CHECK(missing.code == 64);
    CHECK(missing.err.find("--database-url-file: cannot read secret file") != std::string::npos);
    // libpq quotes the token it cannot decode: here, the password.
    auto bad = run({vigil::test::agent_binary().string(), "migrate"},
                   {{"DATABASE_URL", "postgresql://vigil:s3cr%zzet@127.0.0.1:1/db"}});
    CHECK(bad.code == 1);
    CHECK(bad.err == "agent migrate: error: cannot connect to the database: invalid percent-encoded token: \"***\"\n");
}

TEST_CASE("migrate: the metrics table the migrations create is the record's field table", "[integration]") {
    // vigil/record_fields.hpp is the one description of the record: a field added there without
    // a migration (or a migration that changes a column's type or nullability) fails here.
    pg::TestDatabase db;
    REQUIRE(migrate(db.url()).code == 0);
    std::map<std::string, std::pair<std::string, bool>> columns;  // name -> type, nullable
    for (const auto& row : pg::query(db.url(),
                                     "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull "
                                     "FROM pg_attribute WHERE attrelid = 'metrics'::regclass "
                                     "AND attnum > 0 AND NOT attisdropped")) {
        columns[row[0]] = {row[1], row[2] == "t"};
    }
    REQUIRE(columns.count("id") == 1);
    CHECK(columns["id"] == std::pair<std::string, bool>{"bigint", false});
    columns.erase("id");
    for (const auto& f : vigil::kRecordFields) {
        INFO("field " << f.name);
        auto it = columns.find(std::string(f.name));
        REQUIRE(it != columns.end());
        CHECK(it->second.first == f.column_type);
        CHECK(it->second.second == vigil::column_nullable(f));
        columns.erase(it);
    }
    std::string extra;
    for (const auto& [name, type] : columns) {
        extra += name + " ";
    }
    CHECK(extra.empty());  // a column no field fills
}

TEST_CASE("migrate: rollups become per location and, rolled back, sum their locations again", "[integration]") {
    pg::TestDatabase db;
    REQUIRE(migrate(db.url()).code == 0);
    roll_back_to(db.url(), "20261207000000");  // before rollups_per_location
    auto hist = [](int bucket, int n) {
        std::string h = "ARRAY[";
        for (int i = 0; i < 48; ++i) {
            h += (i ? "," : "") + std::to_string(i == bucket ? n : 0);
        }
        return h + "]";
    };
    pg::query(db.url(), "INSERT INTO metrics_hourly VALUES ('shop', '2026-12-01T10:00:00Z', 10, 9, 500, 20, 80, " +
                            hist(17, 10) + ")");
    REQUIRE(migrate(db.url()).code == 0);
    CHECK(pg::query(db.url(), "SELECT name, location, checks FROM metrics_hourly") ==
          std::vector<std::vector<std::string>>{{"shop", "", "10"}});
    pg::query(db.url(),
              "INSERT INTO metrics_hourly (name, bucket, location, checks, ok_checks, response_time_sum, "
              "response_time_min, response_time_max, histogram) VALUES ('shop', '2026-12-01T10:00:00Z', 'us', 5, 1, "
              "900, 10, 300, " +
                  hist(20, 5) + ")");
    pg::query(db.url(), "INSERT INTO metrics_days_dirty VALUES ('2026-12-01')");
    pg::query(db.url(), "SELECT vigil_roll_up_days('metrics', '2026-11-01')");
    CHECK(pg::query(db.url(), "SELECT location, checks, ok_checks FROM metrics_daily ORDER BY location") ==
          std::vector<std::vector<std::string>>{{"", "10", "9"}, {"us", "5", "1"}});
    roll_back_to(db.url(), "20261207000000");  // rollups_per_location rolled back
    CHECK(pg::query(db.url(),
                    "SELECT checks, ok_checks, response_time_sum, response_time_min, response_time_max, "
                    "histogram[18], histogram[21] FROM metrics_hourly") ==
          std::vector<std::vector<std::string>>{{"15", "10", "1400", "10", "300", "10", "5"}});
    CHECK(pg::scalar(db.url(), "SELECT checks FROM metrics_daily") == "15");
}
