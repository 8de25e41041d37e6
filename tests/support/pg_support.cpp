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

}  // namespace vigil::test::pg
