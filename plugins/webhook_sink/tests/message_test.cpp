// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "message.hpp"

using namespace vigil::plugins::webhook_sink;

namespace {
vigil::SiteEvent event(const std::string& from, const std::string& to) {
    vigil::SiteEvent e;
    e.id = 12;
    e.site = "shop";
    e.url = "https://shop.example/";
    e.from = from;
    e.to = to;
    e.since = vigil::Timestamp(std::chrono::minutes(29'000'000));
    e.at = e.since + std::chrono::minutes(95);
    e.check_id = "c1";
    e.reason = "3 failed checks in a row: timeout";
    e.cause = to == "up" ? std::nullopt : std::optional<std::string>("timeout");
    return e;
}
}  // namespace

TEST_CASE("webhook: the signature is RFC 4231's HMAC-SHA256, hex, after sha256=", "[unit][webhook]") {
    CHECK(signature("Jefe", "what do ya want for nothing?") ==
          "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("webhook: json is the event's own JSON; slack a text message", "[unit][webhook]") {
    auto e = event("up", "down");
    CHECK(body_of(e, Format::Json) == vigil::encode_event_json(e));
    auto decoded = vigil::decode_event_json(body_of(e, Format::Json));
    REQUIRE(decoded);
    CHECK(*decoded.event == e);
    CHECK(
        body_of(e, Format::Slack) ==
        R"({"text":":red_circle: *shop* is down: timeout (https://shop.example/)\n3 failed checks in a row: timeout"})");
    auto up = event("down", "up");
    up.reason = "2 good checks in a row";
    CHECK(
        body_of(up, Format::Slack) ==
        R"({"text":":large_green_circle: *shop* is up again after 95 min down (https://shop.example/)\n2 good checks in a row"})");
}

TEST_CASE("webhook: slack text is escaped by Slack's rules", "[unit][hostile]") {
    auto e = event("up", "down");
    e.site = "<!channel> & <https://evil.example|click>";
    CHECK(body_of(e, Format::Slack).find("*&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;* is down") !=
          std::string::npos);
}
