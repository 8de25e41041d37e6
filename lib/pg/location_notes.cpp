// SPDX-License-Identifier: Apache-2.0
#include "location_notes.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/core.h>

#include "untrusted_json.hpp"

namespace vigil::pg {

namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::optional<std::string>& s) {
    if (s) {
        w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
    } else {
        w.Null();
    }
}

}  // namespace

std::string notes_to_json(const std::vector<LocationNote>& notes) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartArray();
    for (const auto& n : notes) {
        w.StartObject();
        w.Key("location");
        put(w, n.location);
        w.Key("state");
        put(w, n.state);
        w.Key("cause");
        put(w, n.cause);
        w.Key("detail");
        put(w, n.detail);
        w.EndObject();
    }
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

std::vector<LocationNote> notes_from_json(std::string_view json, std::string& error) {
    rapidjson::Document doc;
    if (auto e = json::parse(json, doc, {.max_bytes = 1 << 20, .max_depth = 4})) {
        error = fmt::format("invalid JSON at offset {}: {}", e->offset, e->reason);
        return {};
    }
    if (!doc.IsArray()) {
        error = "expected an array of locations";
        return {};
    }
    auto text = [](const rapidjson::Value& o, const char* key) -> std::optional<std::string> {
        auto it = o.FindMember(key);
        if (it == o.MemberEnd() || !it->value.IsString()) {
            return std::nullopt;
        }
        return std::string(it->value.GetString(), it->value.GetStringLength());
    };
    std::vector<LocationNote> out;
    for (const auto& v : doc.GetArray()) {
        auto location = v.IsObject() ? text(v, "location") : std::nullopt;
        auto state = v.IsObject() ? text(v, "state") : std::nullopt;
        if (!location || !state) {
            error = "a location must be an object with string \"location\" and \"state\"";
            return {};
        }
        out.push_back({std::move(*location), std::move(*state), text(v, "cause"), text(v, "detail")});
    }
    return out;
}

std::vector<std::string> names_from_json(std::string_view json, std::string& error) {
    rapidjson::Document doc;
    if (auto e = json::parse(json, doc, {.max_bytes = 1 << 20, .max_depth = 2})) {
        error = fmt::format("invalid JSON at offset {}: {}", e->offset, e->reason);
        return {};
    }
    std::vector<std::string> out;
    if (doc.IsArray()) {
        for (const auto& v : doc.GetArray()) {
            if (!v.IsString()) {
                break;
            }
            out.emplace_back(v.GetString(), v.GetStringLength());
        }
        if (out.size() == doc.Size()) {
            return out;
        }
    }
    error = "expected an array of location names";
    return {};
}

}  // namespace vigil::pg
