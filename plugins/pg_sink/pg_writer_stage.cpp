// SPDX-License-Identifier: Apache-2.0
// The writer's staging: a chunk's rows COPYed into the temporary staging table, each row COPY
// refuses (a NUL byte, a value out of its column's range) found in one pass and set aside for the
// dead-letter table.
#include <cstdlib>
#include <iterator>

#include <fmt/core.h>

#include "pg_result.hpp"
#include "pg_writer.hpp"
#include "record_columns.hpp"
#include "sqlstate.hpp"

namespace vigil::plugins::pg_sink {

using pg::error_field;
using pg::ok;
using pg::Result;

Writer::Copied Writer::copy_rows(const Batch& batch, const std::vector<std::size_t>& rows, std::size_t from,
                                 std::size_t to) {
    Copied c;
    Result r(PQexec(conn_.get(), fmt::format("COPY {} (ord, {}) FROM STDIN", kStage, column_list_).c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) {
        c.sqlstate = error_field(r.get(), PG_DIAG_SQLSTATE);
        c.message = error_field(r.get(), PG_DIAG_MESSAGE_PRIMARY);
        return c;
    }
    std::string buf;
    buf.reserve(256 * 1024);
    bool sent = true;
    std::size_t formatted = 0;
    for (auto at = from; at < to && sent; ++at, ++formatted) {
        auto i = rows[at];
        const auto& rec = batch.records[i].check;
        fmt::format_to(std::back_inserter(buf), "{}", i);
        for (const auto& [f, column] : columns_) {
            buf += '\t';
            append_copy_value(buf, rec, f);
        }
        buf += '\n';
        if (buf.size() >= 192 * 1024) {
            sent = sent && PQputCopyData(conn_.get(), buf.data(), static_cast<int>(buf.size())) == 1;
            buf.clear();
        }
    }
    if (!buf.empty()) {
        sent = sent && PQputCopyData(conn_.get(), buf.data(), static_cast<int>(buf.size())) == 1;
    }
    staged_.inc(formatted);
    PQputCopyEnd(conn_.get(), sent ? nullptr : "client failed to send");
    r.reset(PQgetResult(conn_.get()));
    c.ok = ok(r.get());
    if (!c.ok) {
        c.sqlstate = error_field(r.get(), PG_DIAG_SQLSTATE);
        c.message = error_field(r.get(), PG_DIAG_MESSAGE_PRIMARY);
        // CONTEXT reads "COPY vigil_stage, line 3, column status_code: ...".
        auto context = error_field(r.get(), PG_DIAG_CONTEXT);
        auto at = context.find(", line ");
        if (context.rfind("COPY ", 0) == 0 && at != std::string::npos) {
            c.line = std::strtol(context.c_str() + at + 7, nullptr, 10);
            auto col = context.find("column ");
            if (col != std::string::npos) {
                c.message += " (" + context.substr(col, context.find(':', col) - col) + ")";
            }
        }
    }
    while (PGresult* rest = PQgetResult(conn_.get())) {
        PQclear(rest);
    }
    return c;
}

std::optional<ChunkResult> Writer::stage(const Batch& batch, std::vector<std::size_t>& rows, Refused& refused) {
    // The first COPY takes the whole chunk: most chunks hold no bad row. After a refusal the rest
    // goes in segments, so the next bad row costs at most a segment sent twice, never the rest
    // of the chunk again: a chunk of n rows with k bad ones sends under n + 2 k segments.
    std::size_t segment = rows.size();
    std::size_t pos = 0;
    while (pos < rows.size()) {
        auto to = std::min(rows.size(), pos + segment);
        if (auto failed = run("SAVEPOINT vigil_copy")) {
            return failed;
        }
        auto copied = copy_rows(batch, rows, pos, to);
        if (copied.ok) {
            if (auto failed = run("RELEASE SAVEPOINT vigil_copy")) {
                return failed;
            }
            pos = to;
            continue;
        }
        if (classify_sqlstate(copied.sqlstate) != SqlFate::RejectRow || copied.line < 1 ||
            static_cast<std::size_t>(copied.line) > to - pos) {
            return fail("COPY into the staging table", copied.message, copied.sqlstate);
        }
        if (auto failed = run("ROLLBACK TO SAVEPOINT vigil_copy")) {
            return failed;
        }
        if (auto failed = run("RELEASE SAVEPOINT vigil_copy")) {
            return failed;
        }
        auto bad = pos + static_cast<std::size_t>(copied.line) - 1;
        refused[rows[bad]] = {copied.sqlstate, copied.message};
        // COPY read every row before the bad one: they go in again, known good.
        if (bad > pos) {
            auto prefix = copy_rows(batch, rows, pos, bad);
            if (!prefix.ok) {
                return fail("COPY into the staging table", prefix.message, prefix.sqlstate);
            }
        }
        pos = bad + 1;
        segment = kSegmentAfterRefusal;
    }
    std::erase_if(rows, [&](std::size_t i) { return refused.count(i) > 0; });
    return std::nullopt;
}

}  // namespace vigil::plugins::pg_sink
