// SPDX-License-Identifier: Apache-2.0
// The record's JSON Schema, made from the one description of the record (kRecordFields), so the
// schema a registry holds, schemas/check-record.json and the codec cannot disagree.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

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

namespace {
void string(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// `bit` 0: the schema of every record; else one kind's: its own fields, and of the original
// seven those it leaves null typed as null.
std::string make_schema(std::string_view kind, unsigned bit) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    w.StartObject();
    w.Key("$schema");
    w.String("http://json-schema.org/draft-07/schema#");
    w.Key("$id");
    string(w, bit == 0 ? std::string("urn:vigil:check-record") : fmt::format("urn:vigil:check-record:{}", kind));
    w.Key("title");
    // A kind's title is its record name, as Confluent's TopicRecordNameStrategy names subjects.
    string(w, bit == 0 ? std::string("Vigil check record") : fmt::format("vigil.check.{}", kind));
    w.Key("description");
    string(w, bit == 0
                  ? std::string("One website check: one Kafka message, one row of the metrics table. The original "
                                "project's seven fields are required; the others may be absent (older producers) "
                                "and more may come, so consumers ignore fields they do not know.")
                  : fmt::format("One {} check: one Kafka message, one row of the metrics table. The original "
                                "project's seven fields and the kind are required; the others may be absent "
                                "(older producers) and more may come, so consumers ignore fields they do not know.",
                                kind));
    w.Key("type");
    w.String("object");
    w.Key("properties");
    w.StartObject();
    for (const auto& f : kRecordFields) {
        bool own = bit == 0 || (f.kinds & bit) != 0;
        bool fixed_kind = bit != 0 && f.name == "kind";  // a kind's schema: kind is that one
        if (!own && !f.required) {
            continue;  // another kind's: not this kind's schema's business
        }
        string(w, f.name);
        w.StartObject();
        w.Key("description");
        string(w, !own         ? fmt::format("Always null for {} checks", kind)
                  : fixed_kind ? fmt::format("What was checked: {}", kind)
                               : std::string(f.description));
        w.Key("type");
        if (!own) {
            w.String("null");
        } else if (fixed_kind) {
            w.String("string");
            w.Key("enum");
            w.StartArray();
            string(w, kind);
            w.EndArray();
        } else if (f.nullable) {
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
        if (f.required || (bit != 0 && f.name == "kind")) {
            string(w, f.name);
        }
    }
    w.EndArray();
    w.Key("additionalProperties");
    w.Bool(true);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}
}  // namespace

std::string record_json_schema() { return make_schema({}, 0); }

std::optional<std::string> record_json_schema(std::string_view kind) {
    if (auto i = record_kind_index(kind)) {
        return make_schema(kRecordKinds[*i].first, kRecordKinds[*i].second);
    }
    return std::nullopt;
}

}  // namespace vigil
