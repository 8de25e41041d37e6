// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
        for (char c : *value) {
            if (c == '"' || c == '\\') {
                out_ += '\\';
            }
            out_ += c;
        }
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
