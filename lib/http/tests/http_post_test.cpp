// SPDX-License-Identifier: Apache-2.0
// The poster against scripts/fixture-sites (a real HTTP server on 127.0.0.1, port 0).
#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "http_post.hpp"

using namespace vigil::http;

TEST_CASE("http post: status, body and headers reach the server; one handle serves many requests", "[integration]") {
    vigil::test::FixtureSites sites;
    Poster poster({std::chrono::seconds(5), ""});
    for (int i = 0; i < 3; ++i) {
        auto r = poster.post(sites.url("/echo"), "{\"n\":" + std::to_string(i) + "}", {"X-Test: yes"});
        INFO(r.error);
        REQUIRE(r.status == 200);
        CHECK_THAT(r.body,
                   Catch::Contains("\"X-Test\": \"yes\"") && Catch::Contains("{\\\"n\\\":" + std::to_string(i)));
    }
    auto refused = poster.post(sites.url("/status/422"), "x", {});
    CHECK(refused.status == 422);
    CHECK(refused.summary() == "status 422");
}

TEST_CASE("http post: no answer is an error naming the URL without its credentials", "[integration]") {
    vigil::test::FixtureSites sites;
    Poster poster({std::chrono::milliseconds(500), ""});
    auto r = poster.post("http://user:secret@127.0.0.1:" + std::to_string(sites.refused) + "/hook", "x", {});
    CHECK_FALSE(r.answered());
    CHECK_THAT(r.error, Catch::StartsWith("POST http://"));
    CHECK(r.error.find("secret") == std::string::npos);
    auto slow = poster.post(sites.url("/delay/3000"), "x", {});
    CHECK_FALSE(slow.answered());
    CHECK_THAT(slow.error, Catch::Contains("imeout") || Catch::Contains("timed out"));
}

TEST_CASE("http post: a summary is the body's first line, trimmed to 200 bytes", "[unit]") {
    Response r;
    r.status = 400;
    r.body = "invalid label set\r\nmore";
    CHECK(r.summary() == "invalid label set");
    r.body = std::string(300, 'x');
    CHECK(r.summary() == std::string(200, 'x') + "...");
}
