// SPDX-License-Identifier: Apache-2.0
// The record's fields as table columns, and a record as one row of COPY's text format.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "vigil/record.hpp"

namespace vigil::plugins::pg_sink {

enum class Field : std::size_t {
    name, url, response_time, status_code, regex, regex_check, timestamp,
    check_id, agent, ok, error, error_detail, dns_ms, connect_ms, tls_ms, ttfb_ms,
    redirects, body_bytes, truncated, http_version, remote_ip, tls_not_after, lag_ms,
};
inline constexpr std::size_t kFieldCount = 23;

/// The field's name in the record (and the default column name).
std::string_view field_name(Field f);
/// The field named `name`, if there is one.
bool field_by_name(std::string_view name, Field& out);

/// Appends the field's value in COPY text format: escaped text, or \N for null.
void append_copy_value(std::string& out, const CheckRecord& r, Field f);

/// The first string field holding a NUL byte (PostgreSQL text cannot store one), if any.
bool find_nul(const CheckRecord& r, Field& which);

}  // namespace vigil::plugins::pg_sink
