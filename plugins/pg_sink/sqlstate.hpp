// SPDX-License-Identifier: Apache-2.0
// What a PostgreSQL error means for a batch: try again, or refuse the row for good.
#pragma once

#include <string_view>

namespace vigil::plugins::pg_sink {

enum class SqlFate {
    Retry,      // the server, the connection or a concurrent transaction: the batch is retried
    RejectRow,  // this row's values can never be stored: it goes to the dead-letter table
};

/// One small table (tested entry by entry): data exceptions (class 22), integrity violations
/// (class 23) and a row too large for an index (54000) are the row's fault; everything else,
/// including unknown states and configuration errors such as a missing table (42P01), is
/// retried, because dead-lettering a whole stream for an operator's mistake would be worse.
SqlFate classify_sqlstate(std::string_view sqlstate);

}  // namespace vigil::plugins::pg_sink
