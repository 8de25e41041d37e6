// SPDX-License-Identifier: Apache-2.0
// The effective configuration, as --check-config prints it: every option of the table with the
// value in force (as written after ${VAR} expansion, or the default), secrets as <redacted>.
#pragma once

#include <yaml-cpp/emitter.h>

#include "vigil/config.hpp"

namespace vigil::config {

/// Emits the map of `node` (bound to its table) as YAML map entries, without Begin/EndMap, so
/// the caller can add keys of its own (such as `plugin:`) around them.
void emit_effective(YAML::Emitter& out, const ConfigNode& node);

/// Whether a free-form key (a librdkafka property, a header) looks like it holds a secret.
bool looks_secret(std::string_view key);

}  // namespace vigil::config
