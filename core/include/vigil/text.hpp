// SPDX-License-Identifier: Apache-2.0
// Text that came from outside and goes somewhere that gives characters meaning: a log line (a
// newline forges a line), an HTTP header (CR LF starts another), a label (a control character
// hides what a name says).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/visibility.hpp"

namespace vigil {

/// Why `text` cannot be a name or label (a site's name, a group, a location, a header): "is
/// empty", "is over N bytes", "is not UTF-8 (byte K)", "holds the control character U+000A at
/// byte K". nullopt when it can.
VIGIL_API std::optional<std::string> label_problem(std::string_view text, std::size_t max_bytes);

/// `text` with every control character (C0, DEL, C1) written as an escape (\n, \r, \t, \x1b,
/// \u0085) and every byte that is not UTF-8 as \xNN: one line, and what it says is what it shows.
VIGIL_API std::string escape_controls(std::string_view text);

/// Where a URL points, without what may be secret in it: "scheme://host[:port]" (no user info,
/// path or query, which hold tokens in webhook URLs). Text that is no URL becomes "(URL)".
VIGIL_API std::string url_origin(std::string_view url);

}  // namespace vigil
