// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "vigil/config.hpp"

using namespace std::chrono_literals;
using vigil::Duration;

TEST_CASE("durations parse as written and nothing else does", "[unit][config]") {
    struct Case {
        const char* text;
        std::optional<Duration> want;
    };
    const Case cases[] = {
        {"250ms", 250ms},
        {"10s", 10s},
        {"5m", 5min},
        {"1h", 1h},
        {"1h30m", 90min},
        {"14d", std::chrono::hours(24 * 14)},
        {"1.5s", 1500ms},
        {"100us", 100us},
        {"7ns", 7ns},
        {"0", 0s},
        {"0s", 0s},
        {"", std::nullopt},
        {"10", std::nullopt},
        {"s", std::nullopt},
        {"-5s", std::nullopt},
        {"5 s", std::nullopt},
        {"5sec", std::nullopt},
        {"1w", std::nullopt},
        {"ms", std::nullopt},
        {"99999999999h", std::nullopt},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(vigil::parse_duration(c.text) == c.want);
    }
}

TEST_CASE("durations format back to their shortest config form", "[unit][config]") {
    CHECK(vigil::format_duration(250ms) == "250ms");
    CHECK(vigil::format_duration(30s) == "30s");
    CHECK(vigil::format_duration(90min) == "1h30m");
    CHECK(vigil::format_duration(std::chrono::hours(24 * 14)) == "14d");
    CHECK(vigil::format_duration(std::chrono::hours(25)) == "25h");
    CHECK(vigil::format_duration(0s) == "0s");
    CHECK(vigil::format_duration(1500us) == "1500us");
}

TEST_CASE("sizes parse with binary and decimal units", "[unit][config]") {
    CHECK(vigil::parse_size("4096") == 4096u);
    CHECK(vigil::parse_size("512KiB") == 512u * 1024);
    CHECK(vigil::parse_size("1MiB") == 1024u * 1024);
    CHECK(vigil::parse_size("10MB") == 10'000'000u);
    CHECK(vigil::parse_size("1GiB") == 1024ull * 1024 * 1024);
    CHECK(vigil::parse_size("12B") == 12u);
    CHECK_FALSE(vigil::parse_size(""));
    CHECK_FALSE(vigil::parse_size("1 MiB"));
    CHECK_FALSE(vigil::parse_size("1mb"));
    CHECK_FALSE(vigil::parse_size("-1"));
    CHECK_FALSE(vigil::parse_size("MiB"));
    CHECK_FALSE(vigil::parse_size("99999999999999TiB"));
}

#include "metrics_server.hpp"

TEST_CASE("metrics.listen accepts IP:port forms only", "[unit][config]") {
    using vigil::telemetry::parse_listen;
    auto a = parse_listen("127.0.0.1:9464");
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 9464);
    CHECK(parse_listen("[::1]:0")->host == "::1");
    CHECK(parse_listen(":9464")->host == "0.0.0.0");
    CHECK_FALSE(parse_listen("localhost:9464"));  // no DNS at bind time
    CHECK_FALSE(parse_listen("127.0.0.1"));
    CHECK_FALSE(parse_listen("127.0.0.1:70000"));
    CHECK_FALSE(parse_listen("127.0.0.1:"));
    CHECK_FALSE(parse_listen("[::1]9464"));
}
