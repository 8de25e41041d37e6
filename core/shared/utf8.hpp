// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace vigil {

/// Length (1-4) of the well-formed UTF-8 sequence at `s[i]` (Unicode table 3-7), or 0 when the
/// bytes there are not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept;
/// Whether `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool utf8_valid(std::string_view s) noexcept;
/// `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD, so that a
/// site's non-UTF-8 error text still makes valid JSON.
std::string utf8_sanitize(std::string_view s);

}  // namespace vigil
