// SPDX-License-Identifier: Apache-2.0
#include "untrusted_json.hpp"

#include <cmath>
#include <limits>
#include <system_error>

namespace vigil::json {

namespace {

// std::from_chars is linear in the digits; the bound only keeps one token from being most of a
// large document's cost.
constexpr std::size_t kMaxNumberChars = std::size_t{1} << 20;

// The decimal exponent of the number's leading significant digit (12.5 -> 1, 0.05 -> -2), with
// the written exponent saturated so that a thousand-digit exponent cannot overflow an int.
// Only asked when std::from_chars says the value is out of a double's range: positive means too
// big, negative too small (which rounds to zero, as every JSON reader does).
long long leading_magnitude(std::string_view token) {
    long long digits_before_point = 0, zeros_after_point = 0, exponent = 0;
    bool seen_nonzero = false, in_fraction = false, exponent_negative = false;
    std::size_t i = 0;
    for (; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
        char c = token[i];
        if (c == '.') {
            in_fraction = true;
        } else if (c >= '0' && c <= '9') {
            if (c != '0') {
                seen_nonzero = true;
            }
            if (!in_fraction && seen_nonzero) {
                ++digits_before_point;
            } else if (in_fraction && !seen_nonzero) {
                ++zeros_after_point;
            }
        }
    }
    for (++i; i < token.size(); ++i) {
        char c = token[i];
        if (c == '-') {
            exponent_negative = true;
        } else if (c >= '0' && c <= '9' && exponent < 1'000'000'000) {
            exponent = exponent * 10 + (c - '0');
        }
    }
    long long lead = digits_before_point > 0 ? digits_before_point - 1 : -(zeros_after_point + 1);
    return lead + (exponent_negative ? -exponent : exponent);
}

}  // namespace

std::optional<Number> number(std::string_view token, std::string& why) {
    if (token.size() > kMaxNumberChars) {
        why = "a number of over " + std::to_string(kMaxNumberChars) + " characters";
        return std::nullopt;
    }
    const char* first = token.data();
    const char* last = first + token.size();
    Number n;
    if (token.find_first_of(".eE") == std::string_view::npos) {
        if (token.front() == '-') {
            if (auto [p, ec] = std::from_chars(first, last, n.i); ec == std::errc() && p == last) {
                n.kind = Number::Kind::Int64;
                return n;
            }
        } else if (auto [p, ec] = std::from_chars(first, last, n.u); ec == std::errc() && p == last) {
            n.kind = Number::Kind::Uint64;
            return n;
        }
        // Beyond 64 bits: a double, as RapidJSON reads it.
    }
    auto [p, ec] = std::from_chars(first, last, n.d);
    if (ec == std::errc() && p == last && std::isfinite(n.d)) {
        return n;
    }
    if (ec == std::errc::result_out_of_range && leading_magnitude(token) < 0) {
        n.d = token.front() == '-' ? -0.0 : 0.0;
        return n;
    }
    why = ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(n.d))
              ? "a number beyond a double's range"
              : "a number that cannot be read";
    return std::nullopt;
}

std::optional<Error> parse(std::string_view text, rapidjson::Document& doc, const Limits& limits) {
    std::optional<Error> error;
    auto generate = [&](rapidjson::Document& handler) {
        error = read(text, handler, limits);
        return !error;
    };
    doc.SetNull();
    doc.Populate(generate);
    if (error) {
        doc.SetNull();
    }
    return error;
}

}  // namespace vigil::json
