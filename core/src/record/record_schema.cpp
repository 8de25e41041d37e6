// SPDX-License-Identifier: Apache-2.0
// The record's JSON Schema, made from the one description of the record (kRecordFields), so the
// schema a registry holds, schemas/check-record.json and the codec cannot disagree.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "vigil/record.hpp"
#include "vigil/record_fields.hpp"

namespace vigil {

namespace {
const char* json_schema_type(JsonType t) {
    switch (t) {
        case JsonType::String:
        case JsonType::Timestamp: return "string";
        case JsonType::Number: return "number";
        case JsonType::Integer: return "integer";
        case JsonType::Boolean: return "boolean";
    }
    return "string";
}
}  // namespace

std::string record_json_schema() {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("$schema");
    w.String("http://json-schema.org/draft-07/schema#");
    w.Key("$id");
    w.String("urn:vigil:check-record");
    w.Key("title");
    w.String("Vigil check record");
    w.Key("description");
    w.String(
        "One website check: one Kafka message, one row of the metrics table. The original project's "
        "seven fields are required; the others may be absent (older producers) and more may come, "
        "so consumers ignore fields they do not know.");
    w.Key("type");
    w.String("object");
    w.Key("properties");
    w.StartObject();
    for (const auto& f : kRecordFields) {
        w.Key(f.name.data(), static_cast<rapidjson::SizeType>(f.name.size()));
        w.StartObject();
        w.Key("description");
        w.String(f.description.data(), static_cast<rapidjson::SizeType>(f.description.size()));
        w.Key("type");
        if (f.nullable) {
            w.StartArray();
            w.String(json_schema_type(f.json));
            w.String("null");
            w.EndArray();
        } else {
            w.String(json_schema_type(f.json));
        }
        w.EndObject();
    }
    w.EndObject();
    w.Key("required");
    w.StartArray();
    for (const auto& f : kRecordFields) {
        if (f.required) {
            w.String(f.name.data(), static_cast<rapidjson::SizeType>(f.name.size()));
        }
    }
    w.EndArray();
    w.Key("additionalProperties");
    w.Bool(true);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace vigil
