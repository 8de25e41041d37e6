// SPDX-License-Identifier: Apache-2.0
// The Confluent wire format, JSON Schema validation with the record's own schema, the options,
// and (integration) registering and fetching against the real registry of scripts/services.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <type_traits>
#include <variant>

#include "plugin_config.hpp"
#include "schema_registry.hpp"
#include "support.hpp"
#include "vigil/record.hpp"
#include "vigil/record_fields.hpp"

using namespace vigil::registry;

namespace {
std::shared_ptr<const Validator> record_validator() {
    std::string error;
    auto v = Validator::compile(vigil::record_json_schema(), error);
    INFO(error);
    REQUIRE(v);
    return v;
}
}  // namespace

TEST_CASE("registry: Confluent framing round-trips; plain JSON passes through; broken framing is named", "[unit]") {
    std::string out;
    frame(0x01020304, "{\"a\":1}", out);
    REQUIRE(out.size() == 12);
    CHECK(out.substr(0, 5) == std::string("\0\x01\x02\x03\x04", 5));
    auto u = unframe(out);
    CHECK(u.error.empty());
    CHECK(u.id == 0x01020304u);
    CHECK(u.payload == "{\"a\":1}");
    auto plain = unframe("{\"name\":\"x\"}");
    CHECK_FALSE(plain.id);
    CHECK(plain.payload == "{\"name\":\"x\"}");
    CHECK(unframe(std::string("\0\0\0", 3)).error ==
          "truncated Confluent framing: 3 byte(s), 5 needed for the magic byte and schema id");
    auto empty_payload = unframe(std::string("\0\0\0\0\x07", 5));
    CHECK(empty_payload.id == 7u);
    CHECK(empty_payload.payload.empty());
}

TEST_CASE("registry: the record's schema accepts what the codec writes and the original seven fields", "[unit]") {
    auto v = record_validator();
    vigil::CheckRecord r;
    r.name = "shop";
    r.url = "https://shop.example/";
    r.response_time = 12.5;
    r.status_code = 200;
    r.check_id = "id";
    r.agent = "probe";
    r.ok = true;
    r.attempts = 1;
    r.location = "eu";
    CHECK(v->check(vigil::encode_json(r)) == std::nullopt);
    CHECK(v->check(R"({"name":"a","url":"u","response_time":1.5,"status_code":null,"regex":null,)"
                   R"("regex_check":null,"timestamp":"2020-01-01 00:00:00"})") == std::nullopt);
    CHECK(v->check(R"({"name":"a","url":"u","response_time":1,"status_code":"200","regex":null,)"
                   R"("regex_check":null,"timestamp":"t"})") ==
          "type at /status_code (schema #/properties/status_code)");
    CHECK(v->check(R"({"name":"a","url":"u","response_time":1,"status_code":200,"regex":null,"timestamp":"t"})") ==
          "required at / (schema #)");
    CHECK(v->check(R"({"name":"a","url":"u","response_time":1,"status_code":200,"regex":null,"regex_check":null,)"
                   R"("timestamp":"t","attempts":1.5})") == "type at /attempts (schema #/properties/attempts)");
    CHECK(v->check("{\"name\": ") == "not JSON: Invalid value. at byte 9");
    // Deep nesting stops at the guarded reader's bound (the validator is quadratic in depth).
    CHECK(v->check(std::string(100000, '[')) == "not JSON: nesting deeper than 64 levels at byte 64");
    std::string error;
    CHECK_FALSE(Validator::compile("{not json", error));
    CHECK(error == "the schema is not JSON: Missing a name for object member. at byte 1");
}

TEST_CASE("registry: options: URL scheme, credentials in pairs, located", "[unit]") {
    auto s = vigil::test::check_section("url: \"ftp://r/\"\nusername: u\nplugin: x\n", kSinkOptions,
                                        vigil::PluginKind::Sink, "", "r.yaml");
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    CHECK_FALSE(read_options(s->node, s->diags));
    CHECK(s->errors() ==
          "r.yaml:1:6: error: url: \"ftp://r/\" is not an http:// or https:// URL\n"
          "r.yaml:2:11: error: username: username and password go together\n");
    auto ok = vigil::test::check_section("url: \"http://r:8080/apis/ccompat/v7/\"\nwire_format: header\nplugin: x\n",
                                         kSinkOptions, vigil::PluginKind::Sink);
    auto o = read_options(ok->node, ok->diags);
    REQUIRE(o);
    CHECK(o->url == "http://r:8080/apis/ccompat/v7");
    CHECK(o->wire_format == WireFormat::Header);
    CHECK(o->subject.empty());
}

TEST_CASE("registry: register the record's schema, find it again, fetch it by id, an unknown id", "[integration]") {
    const char* url = std::getenv("SCHEMA_REGISTRY_URL");
    INFO("SCHEMA_REGISTRY_URL is unset; run: eval \"$(scripts/services env)\"");
    REQUIRE(url != nullptr);
    Options o;
    o.url = url;
    o.http.max_body = 4 << 20;
    Client c(o);
    auto subject = "registry-test-" + std::to_string(std::random_device{}()) + "-value";
    auto first = c.register_schema(subject, vigil::record_json_schema());
    INFO(first.error);
    REQUIRE(first.id > 0);
    CHECK(c.register_schema(subject, vigil::record_json_schema()).id == first.id);  // idempotent
    auto fetched = c.fetch(static_cast<std::uint32_t>(first.id));
    REQUIRE(fetched.schema);
    std::string error;
    CHECK(Validator::compile(*fetched.schema, error));
    auto unknown = c.fetch(999999);
    CHECK(unknown.unknown);
    CHECK_THAT(unknown.error, Catch::StartsWith("schema id 999999 is unknown to the registry"));
    Options down = o;
    down.url = "http://127.0.0.1:1/apis/ccompat/v7";
    auto nobody = Client(down).register_schema(subject, "{}");
    CHECK_FALSE(nobody.refused);
    CHECK_THAT(nobody.error, Catch::StartsWith("registry http://127.0.0.1:1/apis/ccompat/v7 did not answer: POST"));
}

TEST_CASE("registry: a schema of the wrong shape is refused before RapidJSON compiles it", "[unit][hostile]") {
    // Found by the registry fuzzer (tests/fuzz/regressions/registry/): RapidJSON 1.1.0 takes
    // "not": "text" and crashes in the validator later.
    const std::pair<std::string, std::string> cases[] = {
        {R"({"not": "urn:x"})", "/not: must be a schema (an object)"},
        {R"({"properties": {"a": 1}})", "/properties/a: must be a schema (an object)"},
        {R"({"type": "text"})", "/type: must be a type name or a list of them"},
        {R"({"required": [1]})", "/required: must be a list of property names"},
        {R"({"anyOf": []})", "/anyOf: must be a list of schemas"},
        {R"({"items": [{}, 2]})", "/items/1: must be a schema (an object)"},
        {R"({"minLength": -1})", "/minLength: must be a whole number of 0 or more"},
        {R"({"$ref": "http://elsewhere/schema"})", "/$ref: must be a reference inside this schema (\"#...\")"},
        {R"({"properties": {"a/b": {"pattern": "^x"}}})",
         "/properties/a~1b/pattern: \"pattern\" is not a keyword Vigil validates with"},
    };
    for (const auto& [schema, why] : cases) {
        INFO(schema);
        std::string error;
        CHECK_FALSE(Validator::compile(schema, error));
        CHECK(error == "the schema cannot be used: " + why);
    }
    std::string error;
    CHECK(Validator::compile(vigil::record_json_schema(), error));
    auto v = Validator::compile(R"({"type":"object","properties":{"a":{"$ref":"#/definitions/n"}},)"
                                R"("definitions":{"n":{"type":"integer","minimum":0}},"required":["a"]})",
                                error);
    REQUIRE(v);
    CHECK(v->check(R"({"a": 3})") == std::nullopt);
    CHECK(v->check(R"({"a": -3})") == "minimum at /a (schema #/definitions/n)");
    for (const auto& e :
         std::filesystem::directory_iterator(vigil::test::source_dir() / "tests/fuzz/regressions/registry")) {
        INFO(e.path());
        Validator::compile(vigil::test::read_file(e.path()), error);  // refused or compiled: no crash
    }
}

namespace {
// A record as the plugin of `bit`'s kind writes it: every field that kind fills given a value.
vigil::CheckRecord record_of_kind(std::string_view kind, unsigned bit) {
    vigil::CheckRecord r;
    r.name = "site";
    r.url = std::string(kind) + "://site.example/";
    r.response_time = 3.5;
    r.agent = "probe";
    r.check_id = "id";
    r.kind = std::string(kind);
    for (const auto& f : vigil::kRecordFields) {
        if ((f.kinds & bit) == 0 || f.kinds == vigil::kEveryKind) {
            continue;
        }
        std::visit(
            [&](auto m) {
                using Member = std::remove_reference_t<decltype(r.*m)>;
                if constexpr (std::is_same_v<Member, std::optional<std::string>>) {
                    r.*m = "text";
                } else if constexpr (std::is_same_v<Member, std::optional<double>>) {
                    r.*m = 1.5;
                } else if constexpr (std::is_same_v<Member, std::optional<int>> ||
                                     std::is_same_v<Member, std::optional<std::int64_t>>) {
                    r.*m = 7;
                } else if constexpr (std::is_same_v<Member, std::optional<bool>>) {
                    r.*m = true;
                } else if constexpr (std::is_same_v<Member, std::optional<vigil::Timestamp>>) {
                    r.*m = vigil::Timestamp{};
                }
            },
            f.member);
    }
    return r;
}
}  // namespace

TEST_CASE("registry: each kind's schema takes that kind's records and refuses another kind's", "[unit]") {
    for (const auto& [kind, bit] : vigil::kRecordKinds) {
        INFO(kind);
        std::string error;
        auto v = Validator::compile(*vigil::record_json_schema(kind), error);
        INFO(error);
        REQUIRE(v);
        auto own = record_of_kind(kind, bit);
        CHECK(v->check(vigil::encode_json(own)) == std::nullopt);
        // The schema of every record takes it too.
        CHECK(record_validator()->check(vigil::encode_json(own)) == std::nullopt);
        for (const auto& [other, other_bit] : vigil::kRecordKinds) {
            if (other != kind) {
                INFO(other);
                CHECK(v->check(vigil::encode_json(record_of_kind(other, other_bit))).has_value());
                auto relabelled = own;
                relabelled.kind = std::string(other);
                CHECK(v->check(vigil::encode_json(relabelled)).value_or("valid") ==
                      "enum at /kind (schema #/properties/kind)");
            }
        }
        auto no_kind = own;
        no_kind.kind.reset();
        CHECK(v->check(vigil::encode_json(no_kind)).value_or("valid") == "type at /kind (schema #/properties/kind)");
    }
    std::string error;
    auto dns = Validator::compile(*vigil::record_json_schema("dns"), error);
    REQUIRE(dns);
    // A DNS check claiming an HTTP status: the dns schema says status_code is always null.
    CHECK(dns->check(R"({"name":"a","url":"dns://ns/a","response_time":1,"status_code":200,"regex":null,)"
                     R"("regex_check":null,"timestamp":"t","kind":"dns","rcode":"NOERROR"})")
              .value_or("valid") == "type at /status_code (schema #/properties/status_code)");
    CHECK(dns->check(R"({"name":"a","url":"dns://ns/a","response_time":1,"status_code":null,"regex":null,)"
                     R"("regex_check":null,"timestamp":"t","kind":"dns","rcode":7})")
              .value_or("valid") == "type at /rcode (schema #/properties/rcode)");
}
