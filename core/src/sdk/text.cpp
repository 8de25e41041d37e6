// SPDX-License-Identifier: Apache-2.0
#include "vigil/text.hpp"

#include <fmt/core.h>

#include "utf8.hpp"

namespace vigil {

namespace {

// The code point of a well-formed sequence of `n` bytes at `s[i]` when it is a control character
// (C0, DEL, or C1: U+0080..U+009F, which UTF-8 writes C2 80..C2 9F), else nullopt.
std::optional<unsigned> control_at(std::string_view s, std::size_t i, std::size_t n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F)) {
        return c;
    }
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
        return static_cast<unsigned char>(s[i + 1]);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> label_problem(std::string_view text, std::size_t max_bytes) {
    if (text.empty()) {
        return std::string("is empty");
    }
    if (text.size() > max_bytes) {
        return fmt::format("is over {} bytes", max_bytes);
    }
    for (std::size_t i = 0; i < text.size();) {
        auto n = utf8_sequence_length(text, i);
        if (n == 0) {
            return fmt::format("is not UTF-8 (byte {})", i);
        }
        if (auto cp = control_at(text, i, n)) {
            return fmt::format("holds the control character U+{:04X} at byte {}", *cp, i);
        }
        i += n;
    }
    return std::nullopt;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto n = utf8_sequence_length(text, i);
        if (n == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
            ++i;
            continue;
        }
        auto cp = control_at(text, i, n);
        if (!cp) {
            out.append(text.substr(i, n));
        } else if (*cp == '\n') {
            out += "\\n";
        } else if (*cp == '\r') {
            out += "\\r";
        } else if (*cp == '\t') {
            out += "\\t";
        } else if (*cp < 0x80) {
            out += fmt::format("\\x{:02x}", *cp);
        } else {
            out += fmt::format("\\u{:04x}", *cp);
        }
        i += n;
    }
    return out;
}

std::string url_origin(std::string_view url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        return "(URL)";
    }
    auto rest = url.substr(scheme_end + 3);
    auto authority = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority = authority.substr(at + 1);
    }
    return escape_controls(std::string(url.substr(0, scheme_end)) + "://" + std::string(authority));
}

}  // namespace vigil
