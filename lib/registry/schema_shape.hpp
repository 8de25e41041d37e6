// SPDX-License-Identifier: Apache-2.0
// What a schema from the registry must look like before RapidJSON compiles it. RapidJSON 1.1.0's
// SchemaDocument does not check the schema itself: a keyword of the wrong type ("not": "a string")
// crashes the validator later (found by the registry fuzzer). So a schema is accepted only in the
// vocabulary Vigil validates with (draft-04/07 keywords RapidJSON implements, less the regular
// expressions), each keyword with the type the specification gives it.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

namespace vigil::registry {

/// Why `schema` cannot be compiled ("/properties/a/not: must be a schema (an object)"), or
/// nullopt when it has the shape RapidJSON's validator handles.
std::optional<std::string> schema_shape_problem(const rapidjson::Value& schema);

}  // namespace vigil::registry
