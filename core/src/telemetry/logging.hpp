// SPDX-License-Identifier: Apache-2.0
// Agent-side logging setup. Logs go to stderr (stdout belongs to stdout_sink's data) in text or
// JSON lines, timestamps in UTC with microseconds.
#pragma once

#include <optional>
#include <string_view>

#include "vigil/log.hpp"

namespace vigil::telemetry {

enum class LogFormat { Text, Json };

/// Applies to every logger, existing and future. Thread-safe.
void configure_logging(LogLevel level, LogFormat format);
LogLevel current_level();

std::optional<LogLevel> parse_level(std::string_view text);
std::optional<LogFormat> parse_format(std::string_view text);

}  // namespace vigil::telemetry
