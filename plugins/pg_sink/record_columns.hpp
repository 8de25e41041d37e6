// SPDX-License-Identifier: Apache-2.0
// The record's fields as table columns (vigil/record_fields.hpp), and a record as one row of
// COPY's text format.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/record.hpp"
#include "vigil/record_fields.hpp"

namespace vigil::plugins::pg_sink {

/// A field of the record: its index in vigil::kRecordFields.
using Field = std::size_t;
inline constexpr std::size_t kFieldCount = kRecordFields.size();

/// The field named `name`; the name must be one of kRecordFields' (checked at compile time).
consteval Field field(std::string_view name) { return record_field_index(name).value(); }

/// The field's name in the record (and the default column name).
std::string_view field_name(Field f);
/// The field named `name`, if there is one.
bool field_by_name(std::string_view name, Field& out);

/// Appends the field's value in COPY text format: escaped text, or \N for null.
void append_copy_value(std::string& out, const CheckRecord& r, Field f);

/// The first string field holding a NUL byte (PostgreSQL text cannot store one), if any.
bool find_nul(const CheckRecord& r, Field& which);

}  // namespace vigil::plugins::pg_sink
