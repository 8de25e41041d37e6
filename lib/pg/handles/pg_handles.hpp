// SPDX-License-Identifier: Apache-2.0
// libpq's two handles with owners: a connection is closed (PQfinish) and a result freed (PQclear)
// when its owner goes, on every path. A leaf (libpq alone), so that the migrator in core uses
// them as well as lib/pg, the plugins and the status page.
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace vigil::pg {

struct ConnCloser {
    void operator()(PGconn* c) const { PQfinish(c); }
};
/// An open connection (or the attempt at one), closed on destruction.
using Conn = std::unique_ptr<PGconn, ConnCloser>;

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
/// A statement's result, freed on destruction.
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// A cancel handle (PQgetCancel), freed on destruction.
struct CancelDeleter {
    void operator()(PGcancel* c) const { PQfreeCancel(c); }
};
using Cancel = std::unique_ptr<PGcancel, CancelDeleter>;

}  // namespace vigil::pg
