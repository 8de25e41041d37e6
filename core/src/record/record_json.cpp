// SPDX-License-Identifier: Apache-2.0
// The record's JSON form. Field order on output is the schema order, so messages diff cleanly.
#include <cmath>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <optional>
#include <variant>

#include "utf8.hpp"
#include "untrusted_json.hpp"
#include "vigil/record.hpp"
#include "vigil/record_fields.hpp"

namespace vigil {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(Writer& w, const std::string& s) {
    if (utf8_valid(s)) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    } else {
        auto fixed = utf8_sanitize(s);
        w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
    }
}

void put_double(Writer& w, double d) {
    if (std::isfinite(d)) {
        w.Double(d);
    } else {
        w.Null();
    }
}

void put(Writer& w, const std::string& v) { put_string(w, v); }
void put(Writer& w, double v) { put_double(w, v); }
void put(Writer& w, bool v) { w.Bool(v); }
void put(Writer& w, int v) { w.Int(v); }
void put(Writer& w, std::int64_t v) { w.Int64(v); }
void put(Writer& w, Timestamp v) { put_string(w, format_timestamp(v)); }
template <typename T>
void put(Writer& w, const std::optional<T>& v) {
    if (v) {
        put(w, *v);
    } else {
        w.Null();
    }
}
void put(Writer& w, const LocationNote& v) {
    w.StartObject();
    w.Key("location");
    put(w, v.location);
    w.Key("state");
    put(w, v.state);
    w.Key("cause");
    put(w, v.cause);
    w.Key("detail");
    put(w, v.detail);
    w.EndObject();
}
template <typename T>
void put(Writer& w, const std::vector<T>& v) {
    w.StartArray();
    for (const auto& x : v) {
        put(w, x);
    }
    w.EndArray();
}

constexpr bool plain_keys() {
    for (const auto& f : kRecordFields) {
        for (char c : f.name) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                return false;
            }
        }
    }
    return true;
}
static_assert(plain_keys(), "encode_json writes the field names unescaped");

// The keys quoted once: Key() escaped each of some forty names in every record.
const std::array<std::string, kRecordFields.size()>& quoted_keys() {
    static const auto keys = [] {
        std::array<std::string, kRecordFields.size()> k;
        for (std::size_t i = 0; i < k.size(); ++i) {
            k[i] = fmt::format("\"{}\"", kRecordFields[i].name);
        }
        return k;
    }();
    return keys;
}

}  // namespace

void encode_json(const CheckRecord& r, std::string& out) {
    // One buffer per thread, kept: a sink encodes thousands of records a second, and a fresh
    // buffer grew (and was freed) for each of them.
    thread_local rapidjson::StringBuffer buf;
    buf.Clear();
    Writer w(buf);
    const auto& keys = quoted_keys();
    w.StartObject();
    for (std::size_t i = 0; i < kRecordFields.size(); ++i) {
        w.RawValue(keys[i].data(), keys[i].size(), rapidjson::kStringType);  // in key position: a key
        std::visit([&](auto m) { put(w, r.*m); }, kRecordFields[i].member);
    }
    w.EndObject();
    out.append(buf.GetString(), buf.GetSize());
}

std::string encode_json(const CheckRecord& record) {
    std::string out;
    encode_json(record, out);
    return out;
}

namespace {

const char* type_name(const rapidjson::Value& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType: return "null";
        case rapidjson::kFalseType:
        case rapidjson::kTrueType: return "boolean";
        case rapidjson::kObjectType: return "object";
        case rapidjson::kArrayType: return "array";
        case rapidjson::kStringType: return "string";
        case rapidjson::kNumberType: return v.IsInt64() || v.IsUint64() ? "integer" : "number";
    }
    return "unknown";
}

// Reads one field into `out` by the member's type, keeping the first error. `required`: the key
// must exist (it may still be null where the member is a std::optional).
class Reader {
  public:
    explicit Reader(const rapidjson::Value& obj) : obj_(obj) {}
    std::string error;

    void read(std::string_view key, std::string& out, bool required) {
        if (const auto* v = find(key, required)) {
            if (!v->IsString()) {
                return wrong(key, "a string", *v);
            }
            out = valid_text(*v);
        }
    }
    void read(std::string_view key, std::optional<std::string>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            if (!v->IsString()) {
                return wrong(key, "a string or null", *v);
            }
            out.emplace(valid_text(*v));
        }
    }
    void read(std::string_view key, double& out, bool required) {
        if (const auto* v = find(key, required)) {
            if (!v->IsNumber()) {
                return wrong(key, "a number", *v);
            }
            out = v->GetDouble();
        }
    }
    void read(std::string_view key, std::int64_t& out, bool required) {
        if (const auto* v = find(key, required)) {
            if (!v->IsInt64()) {
                return wrong(key, "an integer", *v);
            }
            out = v->GetInt64();
        }
    }
    void read(std::string_view key, std::optional<double>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            if (!v->IsNumber()) {
                return wrong(key, "a number or null", *v);
            }
            out = v->GetDouble();
        }
    }
    void read(std::string_view key, std::optional<int>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            if (!v->IsInt()) {
                return wrong(key, "an integer or null", *v);
            }
            out = v->GetInt();
        }
    }
    void read(std::string_view key, std::optional<std::int64_t>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            if (!v->IsInt64()) {
                return wrong(key, "an integer or null", *v);
            }
            out = v->GetInt64();
        }
    }
    void read(std::string_view key, std::optional<bool>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            if (!v->IsBool()) {
                return wrong(key, "true, false or null", *v);
            }
            out = v->GetBool();
        }
    }
    void read(std::string_view key, Timestamp& out, bool required) {
        if (const auto* v = find(key, required)) {
            if (v->IsNull()) {
                error = fmt::format("\"{}\" must not be null", key);
            } else if (auto t = timestamp_of(key, *v)) {
                out = *t;
            }
        }
    }
    void read(std::string_view key, std::optional<Timestamp>& out, bool required) {
        if (const auto* v = find(key, required); v != nullptr && !v->IsNull()) {
            out = timestamp_of(key, *v);
        }
    }

    // An array of strings or of location notes; absent or null reads as empty (events written
    // before SDK ABI 5.0 have none).
    void read(std::string_view key, std::vector<std::string>& out, bool required) {
        read_array(key, out, required, "an array of strings", [](const rapidjson::Value& v, std::string& x) {
            if (!v.IsString()) {
                return false;
            }
            x = valid_text(v);
            return true;
        });
    }
    void read(std::string_view key, std::vector<LocationNote>& out, bool required) {
        read_array(key, out, required, "an array of location objects", [](const rapidjson::Value& v, LocationNote& x) {
            if (!v.IsObject()) {
                return false;
            }
            Reader rd(v);
            rd.read("location", x.location, true);
            rd.read("state", x.state, true);
            rd.read("cause", x.cause, false);
            rd.read("detail", x.detail, false);
            return rd.error.empty();
        });
    }

  private:
    template <typename T, typename Fn>
    void read_array(std::string_view key, std::vector<T>& out, bool required, const char* expected, Fn&& one) {
        const auto* v = find(key, required);
        if (v == nullptr || v->IsNull()) {
            return;
        }
        if (!v->IsArray()) {
            return wrong(key, expected, *v);
        }
        for (const auto& item : v->GetArray()) {
            T x;
            if (!one(item, x)) {
                error = fmt::format("\"{}\" must be {}", key, expected);
                return;
            }
            out.push_back(std::move(x));
        }
    }

    const rapidjson::Value* find(std::string_view key, bool required) {
        if (!error.empty()) {
            return nullptr;
        }
        auto it = obj_.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
        if (it == obj_.MemberEnd()) {
            if (required) {
                error = fmt::format("missing \"{}\"", key);
            }
            return nullptr;
        }
        return &it->value;
    }

    // A non-null value as a timestamp, or nullopt with `error` set.
    std::optional<Timestamp> timestamp_of(std::string_view key, const rapidjson::Value& v) {
        if (!v.IsString()) {
            wrong(key, "an ISO-8601 string", v);
            return std::nullopt;
        }
        auto t = parse_timestamp(std::string_view(v.GetString(), v.GetStringLength()));
        if (!t) {
            error = fmt::format("\"{}\" is not an ISO-8601 timestamp: \"{}\"", key,
                                std::string_view(v.GetString(), std::min<std::size_t>(v.GetStringLength(), 64)));
        }
        return t;
    }

    void wrong(std::string_view key, const char* expected, const rapidjson::Value& v) {
        error = fmt::format("\"{}\" must be {}, got {}", key, expected, type_name(v));
    }

    // The input is valid UTF-8 (the parser checks), but a \u escape of a lone surrogate decodes
    // to bytes that are not: repair them here, as encoding would, so a record is always valid
    // text and survives encode -> decode unchanged (found by libFuzzer).
    static std::string valid_text(const rapidjson::Value& v) {
        std::string_view s(v.GetString(), v.GetStringLength());
        return utf8_valid(s) ? std::string(s) : utf8_sanitize(s);
    }

    const rapidjson::Value& obj_;
};

// Parses `json` into `doc`, which must then be an object; otherwise the reason.
std::string parse_object(std::string_view json, rapidjson::Document& doc) {
    // A Kafka value is anybody's bytes: the guarded reader (lib/json) bounds depth and size and
    // keeps numbers away from RapidJSON 1.1.0's broken conversions.
    if (auto e = json::parse(json, doc)) {
        return fmt::format("invalid JSON at offset {}: {}", e->offset, e->reason);
    }
    if (!doc.IsObject()) {
        return fmt::format("expected a JSON object, got {}", type_name(doc));
    }
    return {};
}

}  // namespace

DecodeResult decode_json(std::string_view json) {
    rapidjson::Document doc;
    DecodeResult result;
    if (result.error = parse_object(json, doc); !result.error.empty()) {
        return result;
    }
    CheckRecord r;
    Reader rd(doc);
    for (const auto& f : kRecordFields) {
        std::visit([&](auto m) { rd.read(f.name, r.*m, f.required); }, f.member);
    }
    if (!rd.error.empty()) {
        result.error = std::move(rd.error);
        return result;
    }
    result.record = std::move(r);
    return result;
}

namespace {
// The event's fields in their JSON order, for encoding and decoding alike.
template <typename Event, typename Fn>
void each_event_field(Event& e, Fn&& fn) {
    fn("id", e.id, true);
    fn("site", e.site, true);
    fn("url", e.url, true);
    fn("from", e.from, true);
    fn("to", e.to, true);
    fn("at", e.at, true);
    fn("since", e.since, true);
    fn("check_id", e.check_id, true);
    fn("reason", e.reason, true);
    fn("cause", e.cause, false);
    fn("previous_cause", e.previous_cause, false);
    fn("error_detail", e.error_detail, false);
    fn("locations", e.locations, false);
    fn("previous_locations", e.previous_locations, false);
}
}  // namespace

std::string encode_event_json(const SiteEvent& event) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    each_event_field(event, [&](std::string_view key, const auto& value, bool) {
        w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        put(w, value);
    });
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

EventDecodeResult decode_event_json(std::string_view json) {
    rapidjson::Document doc;
    EventDecodeResult result;
    if (result.error = parse_object(json, doc); !result.error.empty()) {
        return result;
    }
    SiteEvent e;
    Reader rd(doc);
    each_event_field(e, [&](std::string_view key, auto& value, bool required) { rd.read(key, value, required); });
    if (!rd.error.empty()) {
        result.error = std::move(rd.error);
        return result;
    }
    result.event = std::move(e);
    return result;
}

}  // namespace vigil
