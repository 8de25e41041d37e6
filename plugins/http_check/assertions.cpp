// SPDX-License-Identifier: Apache-2.0
#include "assertions.hpp"

#include <strings.h>

#include <charconv>
#include <cmath>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "untrusted_json.hpp"

namespace vigil::plugins::http_check {

const OptionSpec kJsonAssertionOptions[] = {
    {.key = "pointer",
     .type = OptionType::String,
     .required = true,
     .description = "JSON pointer (RFC 6901) to the value judged, e.g. /status or /checks/0/state"},
    {.key = "equals",
     .type = OptionType::String,
     .description = "The value must be this: a string as text, a number numerically, true, false or null"},
    {.key = "not_equals", .type = OptionType::String, .description = "The value must not be this (as equals)"},
    {.key = "below", .type = OptionType::Float, .description = "The value must be a number below this"},
    {.key = "above", .type = OptionType::Float, .description = "The value must be a number above this"},
    {.key = "exists", .type = OptionType::Bool, .description = "true: the pointer must find a value; false: none"},
    {.key = "matches",
     .type = OptionType::String,
     .description = "RE2 pattern the value (a string, or a scalar's JSON text) must contain a match of"},
    {},
};

const OptionSpec kHeaderAssertionOptions[] = {
    {.key = "name", .type = OptionType::String, .required = true, .description = "Response header name (any case)"},
    {.key = "matches",
     .type = OptionType::String,
     .description = "RE2 pattern a value of the header must contain a match of"},
    {.key = "absent",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "true: the header must not be present (with matches: no value of it may match)"},
    {},
};

bool JsonAssertion::operator==(const JsonAssertion& o) const {
    return pointer == o.pointer && equals == o.equals && not_equals == o.not_equals && below == o.below &&
           above == o.above && exists == o.exists && matches_text == o.matches_text;
}

bool HeaderAssertion::operator==(const HeaderAssertion& o) const {
    return strcasecmp(name.c_str(), o.name.c_str()) == 0 && matches_text == o.matches_text && absent == o.absent;
}

namespace {

std::shared_ptr<const re2::RE2> compile(const ConfigNode& n, const char* key, Diagnostics& diags, bool& failed) {
    re2::RE2::Options o;
    o.set_log_errors(false);
    auto text = n.get_string(key);
    auto re = std::make_shared<const re2::RE2>(text, o);
    if (!re->ok()) {
        diags.error(n.location_of(key), n.path_of(key),
                    fmt::format("invalid regular expression \"{}\": {}", text, re->error()));
        failed = true;
    }
    return re;
}

// Values and patterns in messages: enough to recognise them, never a whole page.
std::string clip(std::string_view s, std::size_t max = 80) {
    return s.size() <= max ? std::string(s) : std::string(s.substr(0, max)) + "...";
}

std::string json_text(const rapidjson::Value& v) {
    if (v.IsString()) {
        return std::string(v.GetString(), v.GetStringLength());
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

// How a value reads in a message: a string quoted, anything else as its JSON.
std::string shown(const rapidjson::Value& v) {
    return v.IsString() ? "\"" + clip(json_text(v)) + "\"" : clip(json_text(v));
}

std::optional<double> number_of(std::string_view text) {
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(d)) {
        return std::nullopt;
    }
    return d;
}

// `equals` compares by the JSON value's type: a string as text, a number numerically (so 5,
// 5.0 and 5e0 agree), a boolean or null by its word, an object or array by its compact JSON.
bool same(const rapidjson::Value& v, const std::string& expected) {
    if (v.IsString()) {
        return json_text(v) == expected;
    }
    if (v.IsNumber()) {
        if (v.IsInt64()) {
            std::int64_t e = 0;
            auto [p, ec] = std::from_chars(expected.data(), expected.data() + expected.size(), e);
            if (ec == std::errc() && p == expected.data() + expected.size()) {
                return v.GetInt64() == e;
            }
        }
        auto e = number_of(expected);
        return e && v.GetDouble() == *e;
    }
    return json_text(v) == expected;
}

std::optional<std::string> judge(const JsonAssertion& a, const rapidjson::Value* v) {
    auto where = a.pointer.empty() ? std::string("json (the document)") : "json " + a.pointer;
    if (a.exists) {
        if (*a.exists && v == nullptr) {
            return where + ": not found (exists: true)";
        }
        if (!*a.exists && v != nullptr) {
            return fmt::format("{} is {}, expected nothing there (exists: false)", where, shown(*v));
        }
    }
    if (v == nullptr) {
        if (a.equals || a.not_equals || a.below || a.above || a.matches) {
            return where + ": not found";
        }
        return std::nullopt;
    }
    if (a.equals && !same(*v, *a.equals)) {
        return fmt::format("{} is {}, not \"{}\"", where, shown(*v), clip(*a.equals));
    }
    if (a.not_equals && same(*v, *a.not_equals)) {
        return fmt::format("{} is {} (not_equals)", where, shown(*v));
    }
    for (auto [limit, op] : {std::pair{a.below, "below"}, std::pair{a.above, "above"}}) {
        if (!limit) {
            continue;
        }
        if (!v->IsNumber()) {
            return fmt::format("{} is {}, not a number ({} {})", where, shown(*v), op, *limit);
        }
        double d = v->GetDouble();
        if (op == std::string_view("below") ? !(d < *limit) : !(d > *limit)) {
            return fmt::format("{} is {}, not {} {}", where, json_text(*v), op, *limit);
        }
    }
    if (a.matches) {
        auto text = json_text(*v);
        if (!re2::RE2::PartialMatch(text, *a.matches)) {
            return fmt::format("{} is {}, no match for \"{}\"", where, shown(*v), clip(*a.matches_text));
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::vector<JsonAssertion>> read_json_assertions(const ConfigNode& node, Diagnostics& diags) {
    std::vector<JsonAssertion> out;
    bool failed = false;
    for (const auto& n : node.items("json")) {
        JsonAssertion a;
        a.pointer = n.get_string("pointer");
        rapidjson::Pointer parsed(a.pointer.data(), a.pointer.size());
        if (!parsed.IsValid()) {
            diags.error(n.location_of("pointer"), n.path_of("pointer"),
                        fmt::format("\"{}\" is not a JSON pointer (RFC 6901, e.g. /status or /items/0/id): "
                                    "error at character {}",
                                    a.pointer, parsed.GetParseErrorOffset() + 1));
            failed = true;
        }
        if (n.has("equals")) {
            a.equals = n.get_string("equals");
        }
        if (n.has("not_equals")) {
            a.not_equals = n.get_string("not_equals");
        }
        if (n.has("below")) {
            a.below = n.get_float("below");
        }
        if (n.has("above")) {
            a.above = n.get_float("above");
        }
        if (n.has("exists")) {
            a.exists = n.get_bool("exists");
        }
        if (n.has("matches")) {
            a.matches_text = n.get_string("matches");
            a.matches = compile(n, "matches", diags, failed);
        }
        if (!a.equals && !a.not_equals && !a.below && !a.above && !a.exists && !a.matches) {
            diags.error(n.location(), n.path(),
                        "says nothing about the value: give equals, not_equals, below, above, exists or matches");
            failed = true;
        }
        if (a.exists == false && (a.equals || a.not_equals || a.below || a.above || a.matches)) {
            diags.error(n.location_of("exists"), n.path_of("exists"),
                        "exists: false leaves no value for the other operators to judge");
            failed = true;
        }
        if (a.below && a.above && *a.above >= *a.below) {
            diags.error(n.location_of("above"), n.path_of("above"),
                        fmt::format("no number is above {} and below {}", *a.above, *a.below));
            failed = true;
        }
        out.push_back(std::move(a));
    }
    if (failed) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::vector<HeaderAssertion>> read_header_assertions(const ConfigNode& node, Diagnostics& diags) {
    std::vector<HeaderAssertion> out;
    bool failed = false;
    for (const auto& n : node.items("expect_headers")) {
        HeaderAssertion a;
        a.name = n.get_string("name");
        if (a.name.empty() || a.name.find_first_of(" \t\r\n:") != std::string::npos) {
            diags.error(n.location_of("name"), n.path_of("name"), fmt::format("invalid header name \"{}\"", a.name));
            failed = true;
        }
        if (n.has("matches")) {
            a.matches_text = n.get_string("matches");
            a.matches = compile(n, "matches", diags, failed);
        }
        a.absent = n.get_bool("absent");
        out.push_back(std::move(a));
    }
    if (failed) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> failed_json_assertion(const std::vector<JsonAssertion>& assertions, std::string_view body,
                                                 bool truncated) {
    if (assertions.empty()) {
        return std::nullopt;
    }
    auto cut = truncated ? std::string(" (the body was cut at max_body)") : std::string();
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return "body is empty, not JSON" + cut;
    }
    rapidjson::Document doc;
    // The site's bytes: the guarded reader (lib/json) bounds nesting (so writing a value back as
    // text cannot exhaust the stack) and keeps numbers from RapidJSON 1.1.0's broken conversions.
    if (auto e = json::parse(body, doc, json::Limits{.max_bytes = kMaxJsonBody})) {
        return fmt::format("body is not JSON: {} at byte {}{}", e->reason, e->offset, cut);
    }
    for (const auto& a : assertions) {
        rapidjson::Pointer p(a.pointer.data(), a.pointer.size());
        if (auto failed = judge(a, p.Get(doc))) {
            return failed;
        }
    }
    return std::nullopt;
}

std::optional<std::string> failed_header_assertion(const std::vector<HeaderAssertion>& assertions,
                                                   const ResponseHeaders& headers) {
    for (const auto& a : assertions) {
        std::vector<const std::string*> values;
        for (const auto& [k, v] : headers) {
            if (strcasecmp(k.c_str(), a.name.c_str()) == 0) {
                values.push_back(&v);
            }
        }
        const std::string* matched = nullptr;
        for (const auto* v : values) {
            if (a.matches == nullptr || re2::RE2::PartialMatch(*v, *a.matches)) {
                matched = v;
                break;
            }
        }
        if (a.absent && matched != nullptr) {
            return a.matches ? fmt::format("header {}: \"{}\" matches \"{}\" (absent: true)", a.name, clip(*matched),
                                           clip(*a.matches_text))
                             : fmt::format("header {}: present (\"{}\"), expected absent", a.name, clip(*matched));
        }
        if (!a.absent && matched == nullptr) {
            if (values.empty()) {
                return fmt::format("header {}: missing", a.name);
            }
            return fmt::format("header {}: \"{}\" does not match \"{}\"", a.name, clip(*values.front()),
                               clip(*a.matches_text));
        }
    }
    return std::nullopt;
}

}  // namespace vigil::plugins::http_check
