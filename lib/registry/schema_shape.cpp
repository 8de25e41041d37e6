// SPDX-License-Identifier: Apache-2.0
#include "schema_shape.hpp"

#include <string_view>

#include <fmt/core.h>

namespace vigil::registry {

namespace {

using Value = rapidjson::Value;

constexpr std::string_view kTypes[] = {"null", "boolean", "object", "array", "number", "integer", "string"};

bool type_name(const Value& v) {
    if (!v.IsString()) {
        return false;
    }
    std::string_view s(v.GetString(), v.GetStringLength());
    for (auto t : kTypes) {
        if (s == t) {
            return true;
        }
    }
    return false;
}

bool count(const Value& v) { return v.IsUint64() || (v.IsInt64() && v.GetInt64() >= 0); }

class Shape {
  public:
    std::optional<std::string> problem;

    void schema(const Value& s, const std::string& at) {
        if (problem) {
            return;
        }
        if (!s.IsObject()) {
            fail(at, "must be a schema (an object)");
            return;
        }
        for (const auto& m : s.GetObject()) {
            std::string_view k(m.name.GetString(), m.name.GetStringLength());
            keyword(k, m.value, at + "/" + escape(k));
            if (problem) {
                return;
            }
        }
    }

  private:
    void keyword(std::string_view k, const Value& v, const std::string& at) {
        if (k == "$schema" || k == "$id" || k == "id" || k == "title" || k == "description" || k == "$comment" ||
            k == "format") {
            require(v.IsString(), at, "must be a string");
        } else if (k == "default" || k == "examples") {
            // annotations: any value
        } else if (k == "$ref") {
            require(v.IsString() && v.GetStringLength() > 0 && v.GetString()[0] == '#', at,
                    "must be a reference inside this schema (\"#...\")");
        } else if (k == "type") {
            bool ok = type_name(v);
            if (v.IsArray() && !v.Empty()) {
                ok = true;
                for (const auto& t : v.GetArray()) {
                    ok = ok && type_name(t);
                }
            }
            require(ok, at, "must be a type name or a list of them");
        } else if (k == "properties" || k == "definitions") {
            each_schema_member(v, at);
        } else if (k == "required") {
            bool ok = v.IsArray();
            for (rapidjson::SizeType i = 0; ok && i < v.Size(); ++i) {
                ok = v[i].IsString();
            }
            require(ok, at, "must be a list of property names");
        } else if (k == "additionalProperties" || k == "additionalItems") {
            if (!v.IsBool()) {
                schema(v, at);
            }
        } else if (k == "items") {
            if (v.IsArray()) {
                schema_list(v, at, false);
            } else {
                schema(v, at);
            }
        } else if (k == "not") {
            schema(v, at);
        } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
            schema_list(v, at, true);
        } else if (k == "enum") {
            require(v.IsArray() && !v.Empty(), at, "must be a list of at least one value");
        } else if (k == "minimum" || k == "maximum") {
            require(v.IsNumber(), at, "must be a number");
        } else if (k == "multipleOf") {
            require(v.IsNumber() && v.GetDouble() > 0, at, "must be a number above 0");
        } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum" || k == "uniqueItems") {
            require(v.IsBool(), at, "must be true or false");
        } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" || k == "minProperties" ||
                   k == "maxProperties") {
            require(count(v), at, "must be a whole number of 0 or more");
        } else if (k == "dependencies") {
            if (!v.IsObject()) {
                fail(at, "must be an object");
                return;
            }
            for (const auto& m : v.GetObject()) {
                auto where = at + "/" + escape(std::string_view(m.name.GetString(), m.name.GetStringLength()));
                if (m.value.IsArray()) {
                    for (const auto& e : m.value.GetArray()) {
                        require(e.IsString(), where, "must list property names");
                    }
                } else {
                    schema(m.value, where);
                }
            }
        } else {
            fail(at, fmt::format("\"{}\" is not a keyword Vigil validates with", k));
        }
    }

    void each_schema_member(const Value& v, const std::string& at) {
        if (!v.IsObject()) {
            fail(at, "must be an object of schemas");
            return;
        }
        for (const auto& m : v.GetObject()) {
            schema(m.value, at + "/" + escape(std::string_view(m.name.GetString(), m.name.GetStringLength())));
        }
    }

    void schema_list(const Value& v, const std::string& at, bool non_empty) {
        if (!v.IsArray() || (non_empty && v.Empty())) {
            fail(at, "must be a list of schemas");
            return;
        }
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
            schema(v[i], at + "/" + std::to_string(i));
        }
    }

    void require(bool ok, const std::string& at, const char* what) {
        if (!ok) {
            fail(at, what);
        }
    }
    void fail(const std::string& at, std::string what) {
        if (!problem) {
            problem = (at.empty() ? "/" : at) + ": " + what;
        }
    }
    // RFC 6901: '~' and '/' in a name.
    static std::string escape(std::string_view name) {
        std::string out;
        for (char c : name) {
            out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        }
        return out;
    }
};

}  // namespace

std::optional<std::string> schema_shape_problem(const rapidjson::Value& schema) {
    Shape s;
    s.schema(schema, "");
    return s.problem;
}

}  // namespace vigil::registry
