// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "vigil/record.hpp"

namespace vigil::plugins::pg_sink {

/// A PostgreSQL array literal built item by item, for unnest($1::text[]) and friends: one
/// parameter per column however many sites, so a chunk's state costs a fixed number of
/// statements.
class ArrayLiteral {
  public:
    void add(const std::optional<std::string>& value) {
        out_ += out_.size() > 1 ? "," : "";
        if (!value) {
            out_ += "NULL";
            return;
        }
        out_ += '"';
        // Runs without a quote or backslash are appended whole (JSON values are mostly such runs).
        std::string_view rest(*value);
        for (auto at = rest.find_first_of("\"\\"); at != std::string_view::npos; at = rest.find_first_of("\"\\")) {
            out_.append(rest.data(), at);
            out_ += '\\';
            out_ += rest[at];
            rest.remove_prefix(at + 1);
        }
        out_.append(rest.data(), rest.size());
        out_ += '"';
    }
    void add(const std::string& value) { add(std::optional<std::string>(value)); }
    void add(int value) { add(std::to_string(value)); }
    void add(std::int64_t value) { add(std::to_string(value)); }
    void add(double value) { add(fmt::format("{}", value)); }
    void add(Timestamp value) { add(format_timestamp(value)); }
    void add(const std::optional<Timestamp>& value) {
        add(value ? std::optional<std::string>(format_timestamp(*value)) : std::nullopt);
    }
    const char* c_str() {
        if (out_.back() != '}') {
            out_ += '}';
        }
        return out_.c_str();
    }

  private:
    std::string out_ = "{";
};

}  // namespace vigil::plugins::pg_sink
