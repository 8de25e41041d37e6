// SPDX-License-Identifier: Apache-2.0
// Keeping secrets out of messages: URLs shown without their password or secret-looking query
// values, and library messages (libpq's, above all) scrubbed of the secrets they may quote.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigil/visibility.hpp"

namespace vigil {

/// What a redacted part reads as.
inline constexpr std::string_view kRedactedPart = "***";

/// The URL as it may be shown (Go's url.Redacted): the password of the user info and the value
/// of every secret-looking query key (token, key, password, sig, auth...) become "***". Text
/// without "://" is returned unchanged.
VIGIL_API std::string redact_url(std::string_view url);

/// True for a name that usually holds a secret: a query key or header such as `api_key`,
/// `access_token`, `password`, `Authorization`, `Cookie`, `X-Api-Key`.
VIGIL_API bool secret_name(std::string_view name);

/// The secrets a libpq connection string (URL or key=value form) carries: the URL's password
/// and `password`/`sslpassword` values, each raw and percent-decoded. Works on strings libpq
/// refuses too, which is when its message quotes them.
VIGIL_API std::vector<std::string> conninfo_secrets(std::string_view conninfo);

/// `message` with every occurrence of a secret replaced by "***", and every double-quoted token
/// that is a part of a secret too (a parser quoting the bad part of a password quotes a piece).
VIGIL_API std::string scrub(std::string message, const std::vector<std::string>& secrets);

/// scrub(message, conninfo_secrets(conninfo)) with any URL in the message redacted as well.
VIGIL_API std::string scrub_conninfo(std::string message, std::string_view conninfo);

}  // namespace vigil
