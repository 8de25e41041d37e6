// SPDX-License-Identifier: Apache-2.0
#include "sqlstate.hpp"

namespace vigil::plugins::pg_sink {

SqlFate classify_sqlstate(std::string_view s) {
    if (s.size() != 5) {
        return SqlFate::Retry;  // no SQLSTATE: the connection failed before the server answered
    }
    auto cls = s.substr(0, 2);
    if (cls == "22" || cls == "23" || s == "54000") {
        return SqlFate::RejectRow;
    }
    return SqlFate::Retry;
}

}  // namespace vigil::plugins::pg_sink
