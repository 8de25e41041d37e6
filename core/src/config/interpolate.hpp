// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::config {

using Environment = std::map<std::string, std::string, std::less<>>;

/// A snapshot of the process environment, taken once per load so a config reads consistently.
Environment snapshot_environment();

/// Expands ${NAME} and ${NAME:-default} (default also when NAME is set but empty, as in sh);
/// `$$` is a literal `$`. On failure returns nullopt and sets `error` to one line.
std::optional<std::string> interpolate(std::string_view text, const Environment& env, std::string& error);

}  // namespace vigil::config
