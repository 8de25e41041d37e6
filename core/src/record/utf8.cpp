// SPDX-License-Identifier: Apache-2.0
#include "utf8.hpp"

namespace vigil {

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
        return i + k < s.size() && b(k) >= lo && b(k) <= hi;
    };
    unsigned c = b(0);
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c == 0xE0) {
        return cont(1, 0xA0) && cont(2) ? 3 : 0;
    }
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        return cont(1) && cont(2) ? 3 : 0;
    }
    if (c == 0xED) {
        return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    }
    if (c == 0xF0) {
        return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    }
    if (c >= 0xF1 && c <= 0xF3) {
        return cont(1) && cont(2) && cont(3) ? 4 : 0;
    }
    if (c == 0xF4) {
        return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

bool utf8_valid(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_sequence_length(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string utf8_sanitize(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (std::size_t i = 0; i < s.size();) {
        auto n = utf8_sequence_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

}  // namespace vigil
