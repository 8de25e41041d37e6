// SPDX-License-Identifier: Apache-2.0
// What webhook_sink sends: the body of one event in either format, and its signature.
#pragma once

#include <string>

#include "webhook_sink_config.hpp"
#include "vigil/record.hpp"

namespace vigil::plugins::webhook_sink {

/// The POST body: encode_event_json (json), or {"text": "..."} (slack).
std::string body_of(const SiteEvent& event, Format format);

/// "sha256=" and the lowercase hex HMAC-SHA256 of `body` under `key` (GitHub's webhook form).
std::string signature(const std::string& key, const std::string& body);

}  // namespace vigil::plugins::webhook_sink
