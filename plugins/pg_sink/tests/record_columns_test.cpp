// SPDX-License-Identifier: Apache-2.0
#include <cmath>

#include <catch2/catch.hpp>

#include "record_columns.hpp"

using namespace vigil::plugins::pg_sink;

namespace {
std::string value(const vigil::CheckRecord& r, Field f) {
    std::string out;
    append_copy_value(out, r, f);
    return out;
}
}  // namespace

TEST_CASE("pg_sink: records become COPY text values, escaped, with \\N for null", "[unit]") {
    vigil::CheckRecord r;
    r.name = "tab\there\nnew\\line\rcr";
    r.url = "https://x/'); DROP TABLE metrics; --";
    r.response_time = 12.25;
    r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'700'000'000'123'456));
    r.check_id = "id";
    CHECK(value(r, field("name")) == "tab\\there\\nnew\\\\line\\rcr");
    CHECK(value(r, field("url")) == "https://x/'); DROP TABLE metrics; --");
    CHECK(value(r, field("response_time")) == "12.25");
    CHECK(value(r, field("status_code")) == "\\N");
    CHECK(value(r, field("regex_check")) == "\\N");
    CHECK(value(r, field("timestamp")) == "2023-11-14T22:13:20.123456Z");
    CHECK(value(r, field("agent")) == "\\N");
    r.status_code = 503;
    r.regex_check = false;
    r.ok = true;
    r.body_bytes = 1LL << 40;
    r.dns_ms = std::nan("");
    r.ttfb_ms = -INFINITY;
    CHECK(value(r, field("status_code")) == "503");
    CHECK(value(r, field("regex_check")) == "f");
    CHECK(value(r, field("ok")) == "t");
    CHECK(value(r, field("body_bytes")) == "1099511627776");
    CHECK(value(r, field("dns_ms")) == "NaN");
    CHECK(value(r, field("ttfb_ms")) == "-Infinity");
}

TEST_CASE("pg_sink: a NUL byte is found before it reaches the server; fields are named", "[unit]") {
    vigil::CheckRecord r;
    r.name = "fine";
    Field f;
    CHECK_FALSE(find_nul(r, f));
    r.error_detail = std::string("bad\0byte", 8);
    REQUIRE(find_nul(r, f));
    CHECK(field_name(f) == "error_detail");
    Field g;
    CHECK(field_by_name("tls_not_after", g));
    CHECK(g == field("tls_not_after"));
    CHECK_FALSE(field_by_name("nope", g));
}
