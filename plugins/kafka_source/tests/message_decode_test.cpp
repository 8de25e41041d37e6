// SPDX-License-Identifier: Apache-2.0
#include <set>

#include <catch2/catch.hpp>

#include "message_decode.hpp"
#include "poison_corpus.hpp"

using vigil::plugins::kafka_source::decode_message;
using vigil::plugins::kafka_source::derived_check_id;

TEST_CASE("kafka_source: every kind of poison message is refused with its own reason", "[unit]") {
    std::set<std::string> reasons;
    for (const auto& p : vigil::test::poison_corpus()) {
        INFO(p.kind << ": " << p.value.substr(0, 200));
        auto d = decode_message("t", 0, 1, p.value.empty() ? nullptr : p.value.data(), p.value.size(), 1 << 20);
        REQUIRE_FALSE(d.record);
        CHECK_THAT(d.reason, Catch::Contains(p.expect));
        reasons.insert(d.reason);
    }
    CHECK(vigil::test::poison_corpus().size() >= 20);
    CHECK(reasons.size() >= 18);  // a few kinds share a message, the rest are told apart
}

TEST_CASE("kafka_source: the original seven-field message is accepted with a stable derived id", "[unit]") {
    std::string seven = R"({"name":"example","url":"https://example.com","response_time":123.4,"status_code":200,)"
                        R"("regex":"Example","regex_check":true,"timestamp":"2026-11-28 01:02:03.456789"})";
    auto a = decode_message("website-metrics", 2, 41, seven.data(), seven.size(), 1 << 20);
    REQUIRE(a.record);
    CHECK(a.record->check.name == "example");
    CHECK(a.record->origin == "topic=website-metrics partition=2 offset=41");
    CHECK(a.record->check.check_id.size() == 36);
    CHECK(a.record->check.check_id[14] == '8');  // UUID version 8
    auto again = decode_message("website-metrics", 2, 41, seven.data(), seven.size(), 1 << 20);
    CHECK(again.record->check.check_id == a.record->check.check_id);  // redelivery: same id
    auto next = decode_message("website-metrics", 2, 42, seven.data(), seven.size(), 1 << 20);
    CHECK(next.record->check.check_id != a.record->check.check_id);
    CHECK(derived_check_id("t", 0, 1, vigil::Timestamp{}) !=
          derived_check_id("t", 0, 1, vigil::Timestamp(std::chrono::microseconds(1))));

    std::string with_id = R"({"name":"n","url":"u","response_time":1,"status_code":null,"regex":null,)"
                          R"("regex_check":null,"timestamp":"2026-11-28T01:02:03Z","check_id":"abc"})";
    auto b = decode_message("t", 0, 0, with_id.data(), with_id.size(), 1 << 20);
    REQUIRE(b.record);
    CHECK(b.record->check.check_id == "abc");
}
