// SPDX-License-Identifier: Apache-2.0
#include "pg_support.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>

namespace vigil::test::pg {

std::string database_url() {
    const char* v = std::getenv("DATABASE_URL");
    INFO("DATABASE_URL is unset; run: eval \"$(scripts/services env)\" (scripts/test does)");
    REQUIRE(v != nullptr);
    return v;
}

std::string url_for(const std::string& database) {
    auto url = database_url();
    auto slash = url.find('/', url.find("://") + 3);
    auto query = url.find('?', slash);
    return url.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

std::vector<std::vector<std::string>> query(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    INFO(PQerrorMessage(c));
    REQUIRE(PQstatus(c) == CONNECTION_OK);
    PGresult* r = PQexec(c, sql.c_str());
    auto status = PQresultStatus(r);
    INFO(sql << ": " << PQresultErrorMessage(r));
    bool good = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; good && i < PQntuples(r); ++i) {
        rows.emplace_back();
        for (int j = 0; j < PQnfields(r); ++j) {
            rows.back().emplace_back(PQgetvalue(r, i, j));
        }
    }
    PQclear(r);
    PQfinish(c);
    REQUIRE(good);
    return rows;
}

std::string scalar(const std::string& url, const std::string& sql) {
    auto rows = query(url, sql);
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0].size() == 1);
    return rows[0][0];
}

TestDatabase::TestDatabase() {
    static std::mt19937_64 rng{std::random_device{}()};
    name_ = "vigil_test_" + std::to_string(rng() % 1'000'000'000'000ULL);
    query(database_url(), "CREATE DATABASE " + name_);
    url_ = url_for(name_);
}

TestDatabase::~TestDatabase() {
    PGconn* c = PQconnectdb(database_url().c_str());
    if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
    }
    PQfinish(c);
}

void audit_metrics(const std::string& url) {
    query(url, "CREATE TABLE metrics_offered (check_id text, at timestamptz DEFAULT clock_timestamp())");
    query(url,
          "CREATE FUNCTION vigil_test_offered() RETURNS trigger LANGUAGE plpgsql AS "
          "$$ BEGIN INSERT INTO metrics_offered (check_id) VALUES (NEW.check_id); RETURN NEW; END $$");
    query(url,
          "CREATE TRIGGER vigil_test_offered BEFORE INSERT ON metrics FOR EACH ROW "
          "EXECUTE FUNCTION vigil_test_offered()");
}

StoredOnce stored_once(const std::string& url) {
    StoredOnce s;
    s.rows = std::stoll(scalar(url, "SELECT count(*) FROM metrics"));
    s.same_slot = std::stoll(scalar(url, "SELECT count(*) - count(DISTINCT (name, \"timestamp\")) FROM metrics"));
    s.rejected = std::stoll(scalar(url, "SELECT count(*) FROM metrics_rejected"));
    if (scalar(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'metrics_offered'") == "1") {
        s.audited = true;
        s.offered = std::stoll(scalar(url, "SELECT count(*) FROM metrics_offered"));
        s.offered_ids = std::stoll(scalar(url, "SELECT count(DISTINCT check_id) FROM metrics_offered"));
    }
    return s;
}

std::string StoredOnce::summary() const {
    auto text = std::to_string(rows) + " rows, " + std::to_string(same_slot) +
                " of them a second row for one site and start time, " + std::to_string(rejected) + " rejected";
    if (audited) {
        text += "; pg_sink offered " + std::to_string(offered) + " rows for " + std::to_string(offered_ids) +
                " checks (" + std::to_string(offered - offered_ids) + " redelivered, kept once)";
    }
    return text;
}

}  // namespace vigil::test::pg
