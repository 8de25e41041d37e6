// SPDX-License-Identifier: Apache-2.0
// libpq results as the writer reads them: owned, tested for success, error fields as strings.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace vigil::pg {

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

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

}  // namespace vigil::pg
