// SPDX-License-Identifier: Apache-2.0
// What the PostgreSQL plugins (pg_sink, pg_events) share about a connection: the `url` option
// (or $DATABASE_URL), checked by libpq's own parser and warned about when its TLS mode lets a
// machine in the middle pose as a remote server, and identifiers quoted for SQL text.
#pragma once

#include <string>

#include "vigil/config.hpp"

namespace vigil::pg {

/// The `url` (or `url_file`) option, else $DATABASE_URL; errors and warnings in `diags` name
/// the option. The message never holds the password: libpq's quote of a bad token is scrubbed.
Secret connection_url(const ConfigNode& node, Diagnostics& diags);

/// `name` or `schema.name` quoted as a PostgreSQL identifier.
std::string quote_identifier(const std::string& name);

}  // namespace vigil::pg
