// SPDX-License-Identifier: Apache-2.0
#include "vigil/text.hpp"

#include <fmt/core.h>

namespace vigil {

namespace {

// Length of the well-formed UTF-8 sequence at `s[i]` (1-4), or 0 when it is not one. The code
// point goes to `cp`.
std::size_t sequence(std::string_view s, std::size_t i, char32_t& cp) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) {
        return 0;
    }
    cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

bool control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

}  // namespace

std::optional<std::string> label_problem(std::string_view text, std::size_t max_bytes) {
    if (text.empty()) {
        return std::string("is empty");
    }
    if (text.size() > max_bytes) {
        return fmt::format("is over {} bytes", max_bytes);
    }
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        auto n = sequence(text, i, cp);
        if (n == 0) {
            return fmt::format("is not UTF-8 (byte {})", i);
        }
        if (control(cp)) {
            return fmt::format("holds the control character U+{:04X} at byte {}", static_cast<unsigned>(cp), i);
        }
        i += n;
    }
    return std::nullopt;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        auto n = sequence(text, i, cp);
        if (n == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
            ++i;
            continue;
        }
        if (!control(cp)) {
            out.append(text.substr(i, n));
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp < 0x80) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
        } else {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
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
