// SPDX-License-Identifier: Apache-2.0
// bench/json.sh: what reading untrusted JSON safely costs, per document, in one run on the same
// inputs. Columns: RapidJSON's own parse as Vigil called it before the guarded reader (the
// reference), the guarded reader (lib/json) and simdjson 3.0.1's DOM parser (the alternative the
// issue named). Rows: a health body judged by a json assertion, a 64 KiB API body, and a Kafka
// record decoded and validated as kafka_source does with validate: true.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <simdjson.h>

#include "assertions.hpp"
#include "schema_registry.hpp"
#include "untrusted_json.hpp"
#include "vigil/record.hpp"

using Clock = std::chrono::steady_clock;

namespace {

volatile std::size_t sink_counter = 0;

// Documents per second of `fn` over about `seconds`.
double rate(const std::function<void()>& fn, double seconds = 1.5) {
    std::size_t n = 0;
    auto start = Clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) {
        for (int i = 0; i < 100; ++i) {
            fn();
        }
        n += 100;
    }
    return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

std::string health_body() {
    return R"({"status":"UP","version":"2.4.1","uptime_s":8123456,"queue":{"depth":42,"oldest_ms":12.5},)"
           R"("checks":[{"name":"db","ok":true,"ms":1.25},{"name":"cache","ok":true,"ms":0.4}]})";
}

std::string api_body() {
    std::string s = R"({"items":[)";
    for (int i = 0; s.size() < 64 * 1024; ++i) {
        s += (i ? "," : "") + std::string(R"({"id":)") + std::to_string(i) + R"(,"name":"item-)" + std::to_string(i) +
             R"(","price":)" + std::to_string(i * 1.37) + R"(,"tags":["a","b"],"stock":true})";
    }
    return s + R"(],"status":"UP"})";
}

void row(const char* what, std::size_t bytes, double reference, double guarded, double simd) {
    std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.1f%% | %.1f%% |\n", what, bytes, reference, guarded, simd,
                100.0 * guarded / reference, 100.0 * simd / reference);
}

}  // namespace

int main() {
    using vigil::plugins::http_check::failed_json_assertion;
    using vigil::plugins::http_check::JsonAssertion;
    JsonAssertion up;
    up.pointer = "/status";
    up.equals = "UP";
    const std::vector<JsonAssertion> assertions{up};
    simdjson::dom::parser simd;

    std::printf(
        "| document | bytes | RapidJSON as before (docs/s) | guarded reader (docs/s) | simdjson DOM (docs/s) "
        "| guarded / before | simdjson / before |\n|---|---|---|---|---|---|---|\n");
    for (const auto& item : {std::pair{"health body, json: /status equals UP", health_body()},
                             std::pair{"64 KiB API body, json: /status equals UP", api_body()}}) {
        const char* what = item.first;
        const std::string& body = item.second;
        // Before: http_check parsed with RapidJSON's iterative full-precision parse, then the pointer.
        double before = rate([&] {
            rapidjson::Document d;
            d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag>(body.data(), body.size());
            sink_counter = sink_counter + (rapidjson::Pointer("/status").Get(d) != nullptr);
        });
        double guarded =
            rate([&] { sink_counter = sink_counter + failed_json_assertion(assertions, body, false).has_value(); });
        double simd_rate = rate([&] {
            auto doc = simd.parse(body.data(), body.size(), true);
            sink_counter = sink_counter + (doc.at_pointer("/status").get_string().value() == "UP");
        });
        row(what, body.size(), before, guarded, simd_rate);
    }

    // A Kafka record: decoded (parse + fields) and validated against the record's schema.
    vigil::CheckRecord r;
    r.name = "shop-0042";
    r.url = "https://shop-0042.example.com/health";
    r.response_time = 123.456;
    r.status_code = 200;
    r.regex = "Welcome";
    r.regex_check = true;
    r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'800'000'000'000'000));
    r.check_id = "0190f3a2-7b1c-7d2e-8f00-123456789abc";
    r.agent = "probe-1";
    r.ok = true;
    r.dns_ms = 1.2;
    r.connect_ms = 3.4;
    r.tls_ms = 12.5;
    r.ttfb_ms = 98.1;
    r.body_bytes = 5123;
    r.http_version = "2";
    r.remote_ip = "192.0.2.10";
    r.attempts = 1;
    r.location = "eu-west";
    auto record = vigil::encode_json(r);
    std::string error;
    auto validator = vigil::registry::Validator::compile(vigil::record_json_schema(), error);
    rapidjson::Document schema_doc;
    schema_doc.Parse(vigil::record_json_schema().c_str());
    rapidjson::SchemaDocument schema(schema_doc);
    // Before: the decoder's RapidJSON full-precision parse, and the validator reading the text
    // itself (SAX, no tree).
    double parse_before = rate([&] {
        rapidjson::Document d;
        d.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseValidateEncodingFlag |
                rapidjson::kParseIterativeFlag>(record.data(), record.size());
        sink_counter = sink_counter + d.IsObject();
    });
    double parse_guarded = rate([&] {
        rapidjson::Document d;
        sink_counter = sink_counter + !vigil::json::parse(record, d).has_value();
    });
    double parse_simd =
        rate([&] { sink_counter = sink_counter + (simd.parse(record.data(), record.size(), true).is_object()); });
    row("a Kafka record, parsed", record.size(), parse_before, parse_guarded, parse_simd);
    double validate_before = rate([&] {
        rapidjson::SchemaValidator v(schema);
        rapidjson::Reader reader;
        rapidjson::MemoryStream stream(record.data(), record.size());
        sink_counter = sink_counter + reader.Parse<rapidjson::kParseIterativeFlag>(stream, v).IsError();
    });
    double validate_guarded = rate([&] { sink_counter = sink_counter + validator->check(record).has_value(); });
    std::printf("| a Kafka record, validated (validate: true) | %zu | %.0f | %.0f | n/a | %.1f%% | |\n", record.size(),
                validate_before, validate_guarded, 100.0 * validate_guarded / validate_before);
    double decode = rate([&] { sink_counter = sink_counter + vigil::decode_json(record).record.has_value(); });
    double decode_validate = rate([&] {
        sink_counter =
            sink_counter + vigil::decode_json(record).record.has_value() + validator->check(record).has_value();
    });
    std::printf(
        "\nguarded, whole: decode_json %.0f records/s; decode_json + Validator::check %.0f records/s (%.1f us "
        "a record)\n",
        decode, decode_validate, 1e6 / decode_validate);
    return sink_counter == 42 ? 1 : 0;
}
