// SPDX-License-Identifier: Apache-2.0
// Kafka messages that are not check results, one per kind, each with a fragment of the reason
// it must be refused with. Shared by the decoder's unit test and the dead-letter integration test.
#pragma once

#include <string>
#include <vector>

namespace vigil::test {

struct Poison {
    std::string kind;
    std::string value;
    std::string expect;  // a fragment of the reason
};

inline std::vector<Poison> poison_corpus() {
    const std::string ok_tail =
        R"("response_time":1.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")";
    auto with = [&](const std::string& fields) { return "{" + fields + "}"; };
    return {
        {"empty value", "", "empty message"},
        {"not JSON", "hello world", "invalid JSON"},
        {"truncated JSON", R"({"name":"a","url":)", "invalid JSON"},
        {"trailing garbage", with(R"("name":"a","url":"u",)" + ok_tail) + "xyz", "invalid JSON"},
        {"a JSON array", R"([1,2,3])", "object"},
        {"a JSON string", R"("just a string")", "object"},
        {"a JSON number", "42", "object"},
        {"JSON null", "null", "object"},
        {"missing name", with(R"("url":"u",)" + ok_tail), "\"name\""},
        {"missing url", with(R"("name":"a",)" + ok_tail), "\"url\""},
        {"missing timestamp",
         with(R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":null,"regex_check":null)"),
         "\"timestamp\""},
        {"missing response_time",
         with(
             R"("name":"a","url":"u","status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"response_time\""},
        {"name not a string", with(R"("name":17,"url":"u",)" + ok_tail), "\"name\""},
        {"url not a string", with(R"("name":"a","url":["u"],)" + ok_tail), "\"url\""},
        {"response_time a string",
         with(
             R"("name":"a","url":"u","response_time":"fast","status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"response_time\""},
        {"status_code a float",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200.5,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"status_code\""},
        {"status_code a string",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":"200","regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"status_code\""},
        {"regex_check a string",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":"x","regex_check":"yes","timestamp":"2026-11-28T00:00:00Z")"),
         "\"regex_check\""},
        {"regex a number",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":5,"regex_check":true,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"regex\""},
        {"timestamp not a date",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":"yesterday")"),
         "\"timestamp\""},
        {"timestamp a number",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":1700000000)"),
         "\"timestamp\""},
        {"empty name", with(R"("name":"","url":"u",)" + ok_tail), "\"name\" is empty"},
        {"empty url", with(R"("name":"a","url":"",)" + ok_tail), "\"url\" is empty"},
        {"check_id not a string", with(R"("name":"a","url":"u","check_id":12,)" + ok_tail), "\"check_id\""},
        {"ok not a bool", with(R"("name":"a","url":"u","ok":"true",)" + ok_tail), "\"ok\""},
        {"status_code out of range",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":99999999999,"regex":null,"regex_check":null,"timestamp":"2026-11-28T00:00:00Z")"),
         "\"status_code\""},
        {"timestamp with month 13",
         with(
             R"("name":"a","url":"u","response_time":1.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-13-01T00:00:00Z")"),
         "\"timestamp\""},
        {"tls_not_after not a date", with(R"("name":"a","url":"u","tls_not_after":"soon",)" + ok_tail),
         "\"tls_not_after\""},
        {"body_bytes a float", with(R"("name":"a","url":"u","body_bytes":1.5,)" + ok_tail), "\"body_bytes\""},
        {"lag_ms a string", with(R"("name":"a","url":"u","lag_ms":"late",)" + ok_tail), "\"lag_ms\""},
        {"a number beyond a double's range", with(R"("name":"a","url":"u","lag_ms":1e309,)" + ok_tail),
         "Number too big to be stored in double"},
        {"nesting deeper than 64 levels",
         with(R"("name":"a","url":"u","x":)" + std::string(65, '[') + std::string(65, ']') + "," + ok_tail),
         "nesting deeper than 64 levels"},
        {"a NUL byte after the document", with(R"("name":"a","url":"u",)" + ok_tail) + std::string(1, '\0') + "{}",
         "a NUL byte"},
        {"over max_message_bytes",
         with(R"("name":"a","url":"u","error_detail":")" + std::string(2 << 20, 'x') + "\"," + ok_tail),
         "over max_message_bytes"},
    };
}

}  // namespace vigil::test
