// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <fmt/core.h>
#include <rapidjson/document.h>

#include <map>
#include <sstream>

#include "support.hpp"
#include "vigil/record.hpp"
#include "vigil/record_fields.hpp"

using vigil::CheckRecord;
using vigil::Timestamp;

namespace {
Timestamp at(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

CheckRecord full_record() {
    CheckRecord r;
    r.name = "shop \"main\" — ünïcødé 🚀";
    r.url = "https://shop.example/path?q=1&x=\"y\"";
    r.response_time = 123.456789012345;
    r.status_code = 200;
    r.regex = R"(<title>\s*(Shop|Store)\\</title>)";
    r.regex_check = true;
    r.timestamp = at(1'764'291'723'123'456);
    r.check_id = "01JDZ8Y3N4T5V6W7X8Y9Z0ABCD";
    r.agent = "probe-1";
    r.ok = true;
    r.error = "timeout";
    r.error_detail = std::string("line1\nline2\ttab\x01\x1f and nul:") + std::string(1, '\0') + "end";
    r.dns_ms = 0.1;
    r.connect_ms = 1e-7;
    r.tls_ms = 12345678.9;
    r.ttfb_ms = 0.30000000000000004;
    r.redirects = 3;
    r.body_bytes = 9'007'199'254'740'993LL;  // above 2^53: must stay an exact integer
    r.truncated = false;
    r.http_version = "2";
    r.remote_ip = "::1";
    r.tls_not_after = at(1'800'000'000'000'000);
    r.lag_ms = 0.25;
    r.attempts = 2;
    r.body_excerpt = "<h1>503 Service Unavailable</h1>";
    r.response_headers = "Content-Type: text/html\nRetry-After: 30\n";
    r.location = "eu-west-1";
    r.group = "payments";
    r.kind = "http";
    r.rcode = "NOERROR";
    r.answers = "192.0.2.1\n192.0.2.2";
    r.packets_sent = 3;
    r.packets_received = 2;
    r.packet_loss = 33.3;
    r.rtt_min_ms = 0.1;
    r.rtt_avg_ms = 0.2;
    r.rtt_max_ms = 0.3;
    r.rtt_stddev_ms = 0.08;
    r.tls_version = "TLSv1.3";
    r.tls_cipher = "TLS_AES_256_GCM_SHA384";
    r.tls_issuer = "CN=Vigil test CA";
    r.ocsp_status = "good";
    return r;
}
}  // namespace

TEST_CASE("a full record round-trips exactly through JSON", "[unit]") {
    auto r = full_record();
    auto json = vigil::encode_json(r);
    auto back = vigil::decode_json(json);
    REQUIRE(back.error == "");
    CHECK(*back.record == r);
    CHECK(json.find(R"("timestamp":"2025-11-28T01:02:03.123456Z")") != std::string::npos);
}

TEST_CASE("record codec: the JSON holds every field of the table, in its order and its JSON type", "[unit]") {
    auto json = vigil::encode_json(full_record());
    rapidjson::Document d;
    d.Parse(json.c_str());
    REQUIRE(d.IsObject());
    REQUIRE(d.MemberCount() == vigil::kRecordFields.size());
    for (std::size_t i = 0; i < vigil::kRecordFields.size(); ++i) {
        const auto& f = vigil::kRecordFields[i];
        auto it = d.MemberBegin() + static_cast<std::ptrdiff_t>(i);
        INFO("field " << f.name);
        CHECK(it->name.GetString() == f.name);
        switch (f.json) {
            case vigil::JsonType::String:
            case vigil::JsonType::Timestamp: CHECK(it->value.IsString()); break;
            case vigil::JsonType::Number: CHECK(it->value.IsNumber()); break;
            case vigil::JsonType::Integer: CHECK(it->value.IsInt64()); break;
            case vigil::JsonType::Boolean: CHECK(it->value.IsBool()); break;
        }
    }
    // Exactly the original seven are required on decode.
    std::string required;
    for (const auto& f : vigil::kRecordFields) {
        required += f.required ? std::string(f.name) + " " : "";
    }
    CHECK(required == "name url response_time status_code regex regex_check timestamp ");
}

TEST_CASE("record codec: the README's record table lists every field with its JSON type", "[unit]") {
    // Rows such as: | `dns_ms`, `connect_ms` | number or null | ... |
    std::map<std::string, std::string> documented;
    std::istringstream in(vigil::test::read_file(vigil::test::source_dir() / "README.md"));
    bool in_record = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("## ", 0) == 0) {
            in_record = line == "## The check record";
        }
        if (!in_record || line.rfind("| `", 0) != 0) {
            continue;
        }
        auto cells_end = line.find(" | ", 2);
        auto type_end = line.find(" |", cells_end + 3);
        REQUIRE(type_end != std::string::npos);
        std::string names = line.substr(2, cells_end - 2), type = line.substr(cells_end + 3, type_end - cells_end - 3);
        for (std::size_t at = names.find('`'); at != std::string::npos; at = names.find('`', at)) {
            auto end = names.find('`', at + 1);
            documented[names.substr(at + 1, end - at - 1)] = type;
            at = end + 1;
        }
    }
    for (const auto& f : vigil::kRecordFields) {
        INFO("field " << f.name);
        std::string type = f.json == vigil::JsonType::Number    ? "number"
                           : f.json == vigil::JsonType::Integer ? "integer"
                           : f.json == vigil::JsonType::Boolean ? "boolean"
                                                                : "string";
        REQUIRE(documented.count(std::string(f.name)) == 1);
        CHECK(documented[std::string(f.name)] == type + (f.nullable ? " or null" : ""));
    }
    CHECK(documented.size() == vigil::kRecordFields.size());
}

TEST_CASE("nulls round-trip as nulls and the original seven fields keep their JSON types", "[unit]") {
    CheckRecord r;
    r.name = "a";
    r.url = "http://a.invalid/";
    r.response_time = 5;
    r.timestamp = at(0);
    auto json = vigil::encode_json(r);
    rapidjson::Document d;
    d.Parse(json.c_str());
    REQUIRE(d.IsObject());
    CHECK(d["name"].IsString());
    CHECK(d["url"].IsString());
    CHECK(d["response_time"].IsNumber());
    CHECK(d["status_code"].IsNull());
    CHECK(d["regex"].IsNull());
    CHECK(d["regex_check"].IsNull());
    CHECK(std::string(d["timestamp"].GetString()) == "1970-01-01T00:00:00.000000Z");
    auto back = vigil::decode_json(json);
    REQUIRE(back);
    CHECK(*back.record == r);
}

TEST_CASE("the original project's seven-field messages decode", "[unit]") {
    auto r = vigil::decode_json(R"({"name": "example", "url": "https://example.com", "response_time": 53.1,
        "status_code": 200, "regex": "Example", "regex_check": true,
        "timestamp": "2024-03-01T10:20:30.123456"})");
    REQUIRE(r.error == "");
    CHECK(r.record->name == "example");
    CHECK(r.record->status_code == 200);
    CHECK(r.record->check_id.empty());
    CHECK(vigil::format_timestamp(r.record->timestamp) == "2024-03-01T10:20:30.123456Z");
}

TEST_CASE("malformed or wrongly typed documents give a reason naming the field", "[unit]") {
    const std::string base =
        R"("name":"a","url":"u","response_time":1,"status_code":null,"regex":null,"regex_check":null,"timestamp":"2024-01-01T00:00:00Z")";
    struct Case {
        std::string json;
        std::string error;
    };
    const Case cases[] = {
        {"", "invalid JSON at offset 0: The document is empty."},
        {"{", "invalid JSON at offset 1: Missing a name for object member."},
        {"[1,2]", "expected a JSON object, got array"},
        {"{\"name\":\"a\"} trailing",
         "invalid JSON at offset 13: The document root must not be followed by other values."},
        {R"({"url":"u"})", "missing \"name\""},
        {"{" + base.substr(base.find("\"url\"")) + "}", "missing \"name\""},
        {R"({"name":1})", "\"name\" must be a string, got integer"},
        {R"({"name":"a","url":"u","response_time":"fast"})", "\"response_time\" must be a number, got string"},
        {R"({"name":"a","url":"u","response_time":1,"status_code":"200"})",
         "\"status_code\" must be an integer or null, got string"},
        {R"({"name":"a","url":"u","response_time":1,"status_code":200.5})",
         "\"status_code\" must be an integer or null, got number"},
        {R"({"name":"a","url":"u","response_time":1,"status_code":null,"regex":null,"regex_check":"yes"})",
         "\"regex_check\" must be true, false or null, got string"},
        {R"({"name":"a","url":"u","response_time":1,"status_code":null,"regex":null,"regex_check":null,"timestamp":"yesterday"})",
         "\"timestamp\" is not an ISO-8601 timestamp: \"yesterday\""},
        {R"({"name":"a","url":"u","response_time":1,"status_code":null,"regex":null,"regex_check":null,"timestamp":null})",
         "\"timestamp\" must not be null"},
        {"{" + base + R"(,"body_bytes":"big"})", "\"body_bytes\" must be an integer or null, got string"},
        {"{" + base + R"(,"ok":1})", "\"ok\" must be true, false or null, got integer"},
        {"{\"name\":\"\xff\"}", "invalid JSON at offset 9: Invalid encoding in string."},
    };
    for (const auto& c : cases) {
        INFO(c.json);
        auto r = vigil::decode_json(c.json);
        CHECK_FALSE(r);
        CHECK(r.error == c.error);
    }
    CHECK(vigil::decode_json("{" + base + R"(,"future_field":{"x":[1,2]}})"));  // unknown: ignored
}

TEST_CASE("hostile input never crashes the decoder", "[unit]") {
    std::string deep(100000, '[');
    CHECK_FALSE(vigil::decode_json(deep));
    std::string big = R"({"name":")" + std::string(1 << 20, 'x') + "\"}";
    CHECK(vigil::decode_json(big).error == "missing \"url\"");
    for (int i = 0; i < 256; ++i) {
        std::string one(1, static_cast<char>(i));
        (void)vigil::decode_json(one);
    }
}

TEST_CASE("strings that are not UTF-8 still encode to valid JSON", "[unit]") {
    CheckRecord r;
    r.name = "bad \xff\xfe bytes \xc3";
    r.url = "u";
    r.error_detail = "\xed\xa0\x80 surrogate";
    auto json = vigil::encode_json(r);
    auto back = vigil::decode_json(json);
    REQUIRE(back);
    CHECK(back.record->name == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD");
    CHECK(back.record->error_detail == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate");
}

TEST_CASE("non-finite numbers become null rather than invalid JSON", "[unit]") {
    CheckRecord r;
    r.name = "a";
    r.url = "u";
    r.response_time = std::numeric_limits<double>::quiet_NaN();
    r.dns_ms = std::numeric_limits<double>::infinity();
    auto json = vigil::encode_json(r);
    CHECK(json.find(R"("response_time":null)") != std::string::npos);
    CHECK(json.find(R"("dns_ms":null)") != std::string::npos);
}

TEST_CASE("timestamps parse in the forms producers write", "[unit]") {
    auto us = [](const char* text) {
        auto t = vigil::parse_timestamp(text);
        return t ? std::optional<std::int64_t>(t->time_since_epoch().count()) : std::nullopt;
    };
    const std::int64_t base = 1'709'288'430'000'000;  // 2024-03-01T10:20:30Z
    CHECK(us("2024-03-01T10:20:30Z") == base);
    CHECK(us("2024-03-01T10:20:30.123456Z") == base + 123456);
    CHECK(us("2024-03-01T10:20:30.1Z") == base + 100000);
    CHECK(us("2024-03-01T10:20:30.123456789Z") == base + 123456);
    CHECK(us("2024-03-01 10:20:30.5+00:00") == base + 500000);
    CHECK(us("2024-03-01T12:20:30+02:00") == base);
    CHECK(us("2024-03-01T09:20:30-0100") == base);
    CHECK(us("2024-03-01T10:20:30") == base);
    CHECK_FALSE(us("2024-03-01"));
    CHECK_FALSE(us("2024-13-01T10:20:30Z"));
    CHECK_FALSE(us("2024-03-01T10:20:30.Z"));
    CHECK_FALSE(us("2024-03-01T10:20:30+2"));
    CHECK_FALSE(us("2024-03-01T10:20:30 UTC"));
    CHECK(vigil::format_timestamp(vigil::Timestamp(std::chrono::microseconds(base + 7))) ==
          "2024-03-01T10:20:30.000007Z");
}

TEST_CASE("record codec: a lone surrogate escape decodes to U+FFFDs, so the round trip is exact", "[unit]") {
    // Found by libFuzzer (tests/fuzz/regressions/record_decode/lone-surrogate-roundtrip.json).
    std::string json = R"({"name":"a\ude00b","url":"u","response_time":1,"status_code":null,"regex":null,)"
                       R"("regex_check":null,"timestamp":"2026-11-28T00:00:00Z","check_id":"\udfff"})";
    auto r = vigil::decode_json(json);
    REQUIRE(r);
    const std::string fffd = "\xEF\xBF\xBD";  // one per lone surrogate (the guarded reader, as Go does)
    CHECK(r.record->name == "a" + fffd + "b");
    CHECK(r.record->check_id == fffd);
    auto again = vigil::decode_json(vigil::encode_json(*r.record));
    REQUIRE(again);
    CHECK(*again.record == *r.record);
}

TEST_CASE("record codec: numbers that RapidJSON 1.1.0 misreads are read exactly, never by it", "[unit][hostile]") {
    // Found by libFuzzer (tests/fuzz/regressions/record_decode/): out-of-bounds reads inside
    // RapidJSON's strtod for numbers of hundreds of digits, for leading zeros that take its
    // cached-power index below its table, and (UBSan) for zeros far off its fast path. The guarded
    // reader (lib/json) hands numbers over as text and converts them with std::from_chars.
    auto with = [](const std::string& number) {
        return vigil::decode_json(R"({"name":"a","url":"u","response_time":)" + number +
                                  R"(,"status_code":200,"regex":null,"regex_check":null,)"
                                  R"("timestamp":"2026-11-28T00:00:00Z"})");
    };
    const std::pair<std::string, double> read[] = {
        {"0." + std::string(500, '0') + "1", 0.0},
        {"1e0001", 10.0},
        {"0.0000000000000000000000000000249712e-326", 0.0},
        {"1e-308", 1e-308},
        {"0.001e-305", 1e-308},
        {"-0.0000000001e-300", -1e-310},
        {"0.0000e-300", 0.0},
        {"0e-999", 0.0},
        {"0e23", 0.0},
        {"0.00000000000000000000000", 0.0},
        {"0.11111111111111111111e-330", 0.0},
        {"0.00000000001e-2147483639", 0.0},
        {"1e-307", 1e-307},
        {"1.7e308", 1.7e308},
        {"571.456", 571.456},
        {"0.30000000000000004", 0.30000000000000004},
    };
    for (const auto& [text, value] : read) {
        INFO(text);
        auto r = with(text);
        REQUIRE(r);
        CHECK(r.record->response_time == value);
    }
    for (const char* big : {"1e309", "12e308", "1e2147483648"}) {
        INFO(big);
        auto r = with(big);
        REQUIRE_FALSE(r);
        // RapidJSON's reader refuses most itself; std::from_chars the rest.
        CHECK_THAT(r.error, Catch::StartsWith("invalid JSON at offset 38: ") && Catch::Contains("double"));
    }
    // Digits inside strings are text, not numbers.
    auto s =
        vigil::decode_json(R"({"name":")" + std::string(200, '9') +
                           R"(","url":"u","response_time":1.5,)"
                           R"("status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z"})");
    CHECK(s);
}

TEST_CASE("site event codec: encode and decode agree, and a bad event says which field", "[unit][record]") {
    vigil::SiteEvent e;
    e.id = 42;
    e.site = "shop";
    e.url = "https://shop.example/";
    e.from = "down";
    e.to = "up";
    e.at = vigil::Timestamp(std::chrono::microseconds(1'800'000'000'123'456));
    e.since = vigil::Timestamp(std::chrono::microseconds(1'799'999'000'000'000));
    e.check_id = "c1";
    e.reason = "2 good checks in a row";
    e.previous_cause = "timeout";
    // As written before SDK ABI 5.0 (a disk buffer may hold it): no locations, read as none.
    auto before = vigil::decode_event_json(
        R"({"id":42,"site":"shop","url":"https://shop.example/","from":"down","to":"up",)"
        R"("at":"2027-01-15T08:00:00.123456Z","since":"2027-01-15T07:43:20.000000Z","check_id":"c1",)"
        R"("reason":"2 good checks in a row","cause":null,"previous_cause":"timeout","error_detail":null})");
    REQUIRE(before);
    CHECK(*before.event == e);
    e.previous_locations = {"ap", "us"};
    e.to = "degraded";
    e.locations = {{"us", "down", "connect", "Connection refused"}};
    auto json = vigil::encode_event_json(e);
    CHECK(json == R"({"id":42,"site":"shop","url":"https://shop.example/","from":"down","to":"degraded",)"
                  R"("at":"2027-01-15T08:00:00.123456Z","since":"2027-01-15T07:43:20.000000Z","check_id":"c1",)"
                  R"("reason":"2 good checks in a row","cause":null,"previous_cause":"timeout","error_detail":null,)"
                  R"("locations":[{"location":"us","state":"down","cause":"connect","detail":"Connection refused"}],)"
                  R"("previous_locations":["ap","us"]})");
    auto back = vigil::decode_event_json(json);
    REQUIRE(back);
    CHECK(*back.event == e);
    CHECK(vigil::decode_event_json(R"({"id":1,"site":"s","url":"u","from":"up","to":"up","at":"2027-01-15T08:00:00Z",)"
                                   R"("since":"2027-01-15T08:00:00Z","check_id":"c","reason":"r","locations":[{}]})")
              .error == "\"locations\" must be an array of location objects");
    CHECK(vigil::decode_event_json(R"({"id":"x"})").error == "\"id\" must be an integer, got string");
    CHECK(vigil::decode_event_json(R"({"id":1,"site":"s"})").error == "missing \"url\"");
    CHECK(vigil::decode_event_json("[1]").error == "expected a JSON object, got array");
}

TEST_CASE("record schema: schemas/check-record.json is the schema made from the field table", "[unit]") {
    // A field added to the table and not to the file (or the other way) fails here: regenerate the
    // file with `build/bin/agent schema > schemas/check-record.json`.
    auto file = vigil::test::read_file(vigil::test::source_dir() / "schemas/check-record.json");
    CHECK(file == vigil::record_json_schema());
    rapidjson::Document d;
    d.Parse(file.c_str());
    REQUIRE(d.IsObject());
    CHECK(d["properties"].MemberCount() == vigil::kRecordFields.size());
    CHECK(d["required"].Size() == 7);  // the original seven, so the original producer's messages stay valid
    auto agent = vigil::test::run({vigil::test::agent_binary().string(), "schema"});
    CHECK(agent.code == 0);
    CHECK(agent.out == file);
}

TEST_CASE("record schema: each kind's own schema is in schemas/, with the fields that kind fills", "[unit]") {
    for (const auto& [kind, bit] : vigil::kRecordKinds) {
        INFO(kind);
        // Regenerate with `build/bin/agent schema --kind KIND > schemas/check-record-KIND.json`.
        auto file =
            vigil::test::read_file(vigil::test::source_dir() / fmt::format("schemas/check-record-{}.json", kind));
        CHECK(file == vigil::record_json_schema(kind));
        auto agent = vigil::test::run({vigil::test::agent_binary().string(), "schema", "--kind", std::string(kind)});
        CHECK(agent.out == file);
        rapidjson::Document d;
        d.Parse(file.c_str());
        REQUIRE(d.IsObject());
        CHECK(std::string(d["title"].GetString()) == fmt::format("vigil.check.{}", kind));
        for (const auto& f : vigil::kRecordFields) {
            INFO(f.name);
            bool listed = d["properties"].HasMember(f.name.data());
            CHECK(listed == ((f.kinds & bit) != 0 || f.required));
            if (listed && (f.kinds & bit) == 0) {
                // one of the seven without meaning here
                CHECK(std::string(d["properties"][f.name.data()]["type"].GetString()) == "null");
            }
        }
        CHECK(std::string(d["properties"]["kind"]["enum"][0].GetString()) == kind);
        CHECK(d["required"].Size() == 8);  // the original seven, and the kind
    }
    CHECK_FALSE(vigil::record_json_schema("smtp"));
    auto refused = vigil::test::run({vigil::test::agent_binary().string(), "schema", "--kind", "smtp"});
    CHECK(refused.code == 64);
    CHECK(refused.err == "agent: error: --kind: smtp not in {http,tcp,tls,dns,icmp} (see agent --help)\n");
}
