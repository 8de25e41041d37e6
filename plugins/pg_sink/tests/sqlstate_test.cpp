// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "sqlstate.hpp"

using vigil::plugins::pg_sink::classify_sqlstate;
using vigil::plugins::pg_sink::SqlFate;

TEST_CASE("pg_sink: SQLSTATEs are sorted into retry and reject by one table", "[unit]") {
    struct Case {
        const char* state;
        SqlFate fate;
        const char* what;
    };
    const Case cases[] = {
        {"22003", SqlFate::RejectRow, "numeric value out of range"},
        {"22008", SqlFate::RejectRow, "datetime field overflow"},
        {"22007", SqlFate::RejectRow, "invalid datetime format"},
        {"22021", SqlFate::RejectRow, "character not in repertoire (bad UTF-8)"},
        {"22P02", SqlFate::RejectRow, "invalid text representation"},
        {"22001", SqlFate::RejectRow, "string too long for the column"},
        {"23502", SqlFate::RejectRow, "not null violation"},
        {"23514", SqlFate::RejectRow, "check violation"},
        {"54000", SqlFate::RejectRow, "row too large for an index"},
        {"08006", SqlFate::Retry, "connection failure"},
        {"08001", SqlFate::Retry, "cannot connect"},
        {"40001", SqlFate::Retry, "serialization failure"},
        {"40P01", SqlFate::Retry, "deadlock"},
        {"53100", SqlFate::Retry, "disk full"},
        {"53300", SqlFate::Retry, "too many connections"},
        {"57P01", SqlFate::Retry, "admin shutdown"},
        {"57P03", SqlFate::Retry, "cannot connect now (starting up)"},
        {"57014", SqlFate::Retry, "query canceled"},
        {"42P01", SqlFate::Retry, "undefined table: an operator's mistake, not the row's"},
        {"42501", SqlFate::Retry, "insufficient privilege"},
        {"25P02", SqlFate::Retry, "in failed transaction"},
        {"XX000", SqlFate::Retry, "internal error"},
        {"", SqlFate::Retry, "no SQLSTATE (connection gone)"},
        {"ZZZZZ", SqlFate::Retry, "unknown"},
    };
    for (const auto& c : cases) {
        INFO(c.state << " " << c.what);
        CHECK(classify_sqlstate(c.state) == c.fate);
    }
}
