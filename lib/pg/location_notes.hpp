// SPDX-License-Identifier: Apache-2.0
// The locations behind a site's state as site_state.locations and site_events.locations hold
// them (jsonb: [{"location", "state", "cause", "detail"}]): written by pg_sink, read by pg_events
// and the status page. What a table holds is read as untrusted (anyone with UPDATE may write it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigil/record.hpp"

namespace vigil::pg {

std::string notes_to_json(const std::vector<LocationNote>& notes);

/// The notes of `json`; on anything else an empty list and `error` set to one line.
std::vector<LocationNote> notes_from_json(std::string_view json, std::string& error);

/// The names of a JSON array of strings (to_jsonb(site_events.previous_locations)); on anything
/// else an empty list and `error` set to one line.
std::vector<std::string> names_from_json(std::string_view json, std::string& error);

}  // namespace vigil::pg
