// SPDX-License-Identifier: Apache-2.0
// pg_sink's writers when a statement fails or throws where nothing outside can make it: an
// exception on a writer's thread reaches write() (and so the sink runner, which retries) instead
// of ending the process; a transaction-control statement that fails stops the chunk, naming it.
#include <atomic>
#include <cstring>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "pg_support.hpp"
#include "test_sink.hpp"
#include "writer_pool.hpp"

namespace pg = vigil::test::pg;
using vigil::plugins::pg_sink::writer_calls;
using vigil::plugins::pg_sink::WriterCalls;
using vigil::plugins::pg_sink::WriterPool;
using vigil::test::pg_sink::batch;
using vigil::test::pg_sink::make_sink;
using vigil::test::pg_sink::migrate;

namespace {

// Swaps the table for the test's lifetime.
struct Swapped {
    explicit Swapped(WriterCalls calls) : saved(writer_calls()) { writer_calls() = calls; }
    ~Swapped() { writer_calls() = saved; }
    WriterCalls saved;
};

}  // namespace

TEST_CASE("pg_sink: the writer pool hands a helper thread's exception to the caller, and keeps working", "[unit]") {
    WriterPool pool(3);
    std::atomic<int> ran{0};
    auto throws_on_two = [&](std::size_t i) {
        ++ran;
        if (i == 2) {
            throw std::runtime_error("chunk 2 failed");
        }
    };
    CHECK_THROWS_WITH(pool.run(4, throws_on_two), "chunk 2 failed");
    CHECK(ran == 4);  // every task ran to its end before the rethrow
    ran = 0;
    pool.run(4, [&](std::size_t) { ++ran; });
    CHECK(ran == 4);
    ran = 0;
    pool.run(1, [&](std::size_t i) { ran += static_cast<int>(i) + 1; });
    CHECK(ran == 1);  // one task runs on the caller alone
    CHECK_THROWS_AS(pool.run(5, [](std::size_t) {}), std::invalid_argument);
}

TEST_CASE("pg_sink: a writer that throws on its own thread fails the write; nothing is stored, then all is",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    auto sink = make_sink(db.url(), "connections: 2\n");
    REQUIRE(sink->start().ok());
    {
        WriterCalls calls;
        calls.exec = [](PGconn* conn, const char* statement) -> PGresult* {
            if (std::strcmp(statement, "BEGIN") == 0) {
                throw std::runtime_error("thrown inside a writer");
            }
            return PQexec(conn, statement);
        };
        Swapped swapped(calls);
        // 1,000 rows over two connections: one chunk on the caller's thread, one on a helper's.
        CHECK_THROWS_WITH(sink->write(batch(0, 1000)), "thrown inside a writer");
    }
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "0");
    auto r = sink->write(batch(0, 1000));
    INFO(r.error);
    CHECK(r.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "1000");
}

TEST_CASE("pg_sink: a SAVEPOINT that fails while rows are inserted one by one fails the chunk, naming it",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    // A constraint of the table, not of the staging table: the INSERT finds the bad row, and the
    // chunk is inserted again row by row under savepoints.
    pg::query(db.url(), "ALTER TABLE metrics ADD CONSTRAINT sane_time CHECK (response_time < 1000)");
    auto sink = make_sink(db.url(), "connections: 1\n");
    REQUIRE(sink->start().ok());
    auto b = batch(0, 10);
    b.records[4].check.response_time = 5000;
    {
        WriterCalls calls;
        calls.exec = [](PGconn* conn, const char* statement) -> PGresult* {
            if (std::strcmp(statement, "SAVEPOINT vigil_row") == 0) {
                return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);  // never sent
            }
            return PQexec(conn, statement);
        };
        Swapped swapped(calls);
        auto r = sink->write(b);
        CHECK(r.kind == vigil::WriteResult::Kind::Retry);
        CHECK_THAT(r.error, Catch::Contains(": SAVEPOINT vigil_row: "));
    }
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "0");
    auto r = sink->write(b);
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    REQUIRE(r.rejected.size() == 1);
    CHECK(r.rejected[0].index == 4);
    CHECK_THAT(r.rejected[0].reason, Catch::Contains("SQLSTATE 23514"));
    CHECK(pg::scalar(db.url(), "SELECT count(*) FROM metrics") == "9");
}
