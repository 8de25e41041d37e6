// SPDX-License-Identifier: Apache-2.0
#include "record_columns.hpp"

#include <cmath>

#include <fmt/core.h>

namespace vigil::plugins::pg_sink {

namespace {
void text(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
}
void null(std::string& out) { out += "\\N"; }
void number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "Infinity" : "-Infinity";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", v);
    }
}
void value(std::string& out, const std::string& v) { text(out, v); }
void value(std::string& out, double v) { number(out, v); }
void value(std::string& out, int v) { fmt::format_to(std::back_inserter(out), "{}", v); }
void value(std::string& out, std::int64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }
void value(std::string& out, bool v) { out += v ? 't' : 'f'; }
void value(std::string& out, Timestamp v) { text(out, format_timestamp(v)); }
template <typename T>
void value(std::string& out, const std::optional<T>& v) {
    v ? value(out, *v) : null(out);
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }
bool has_nul(const std::optional<std::string>& s) { return s && has_nul(*s); }
template <typename T>
bool has_nul(const T&) {
    return false;
}
}  // namespace

std::string_view field_name(Field f) { return kRecordFields[f].name; }

bool field_by_name(std::string_view name, Field& out) {
    auto i = record_field_index(name);
    if (i) {
        out = *i;
    }
    return i.has_value();
}

void append_copy_value(std::string& out, const CheckRecord& r, Field f) {
    const RecordField& field = kRecordFields[f];
    std::visit(
        [&](auto m) {
            const auto& v = r.*m;
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, std::string>) {
                if (field.empty_as_null && v.empty()) {
                    return null(out);
                }
            }
            value(out, v);
        },
        field.member);
}

bool find_nul(const CheckRecord& r, Field& which) {
    for (Field f = 0; f < kFieldCount; ++f) {
        if (std::visit([&](auto m) { return has_nul(r.*m); }, kRecordFields[f].member)) {
            which = f;
            return true;
        }
    }
    return false;
}

}  // namespace vigil::plugins::pg_sink
