// SPDX-License-Identifier: Apache-2.0
// libpq results as the PostgreSQL plugins read them: owned, tested for success, error fields as
// strings, and the column forms they select.
#pragma once

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pg_handles.hpp"
#include "vigil/record.hpp"

namespace vigil::pg {

/// libpq's message without its trailing newline.
inline std::string chomp(const char* m) {
    std::string s = m != nullptr ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

inline bool ok(const PGresult* r) {
    auto s = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/// An error field (PG_DIAG_SQLSTATE, PG_DIAG_MESSAGE_PRIMARY...), "" if none.
inline std::string error_field(const PGresult* r, int code) {
    const char* v = r != nullptr ? PQresultErrorField(r, code) : nullptr;
    return v != nullptr ? v : "";
}

/// A column that holds microseconds since the epoch (`(extract(epoch FROM t) * 1000000)::bigint`,
/// exact, unlike the text form of a timestamptz, which follows the session's DateStyle).
/// Never throws: the column is an integer or NULL by construction, and a NULL reads as the epoch.
inline Timestamp micros(const PGresult* r, int row, int col) noexcept {
    const char* v = PQgetvalue(r, row, col);
    std::int64_t n = 0;
    std::from_chars(v, v + PQgetlength(r, row, col), n);
    return Timestamp(std::chrono::microseconds(n));
}

/// A text column, or nullopt for SQL NULL.
inline std::optional<std::string> text_or_null(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col)) {
        return std::nullopt;
    }
    return std::string(PQgetvalue(r, row, col));
}

}  // namespace vigil::pg
