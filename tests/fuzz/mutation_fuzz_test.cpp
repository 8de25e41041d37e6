// SPDX-License-Identifier: Apache-2.0
// Deterministic mutation fuzzing of the two parsers that take outside input: the record decoder
// (Kafka messages) and the config loader (pipeline files). Seeded, so a failure reproduces; run
// under ASan/UBSan by CI, where a crash or undefined behaviour fails the test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/document.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "untrusted_json.hpp"
#include "vigil/record.hpp"

namespace {

std::string mutate(std::string s, std::mt19937_64& rng) {
    static const char kInteresting[] = "{}[]\":,\\\0\xff\xc3\n\t -01e.${}:*&!|>#";
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
        std::size_t pos = s.empty() ? 0 : rng() % s.size();
        switch (rng() % 5) {
            case 0:  // flip a byte
                if (!s.empty()) {
                    s[pos] = static_cast<char>(rng() % 256);
                }
                break;
            case 1:  // insert an interesting byte
                s.insert(pos, 1, kInteresting[rng() % (sizeof(kInteresting) - 1)]);
                break;
            case 2:  // delete a run
                if (!s.empty()) {
                    s.erase(pos, 1 + rng() % 8);
                }
                break;
            case 3:  // duplicate a run
                if (!s.empty()) {
                    s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16));
                }
                break;
            default:  // truncate
                s.resize(pos);
                break;
        }
    }
    return s;
}

}  // namespace

TEST_CASE("fuzz: mutated records never crash the decoder and valid ones round-trip", "[unit][fuzz]") {
    vigil::CheckRecord r;
    r.name = "shop";
    r.url = "https://shop.example/";
    r.response_time = 12.5;
    r.status_code = 200;
    r.regex = "Shop";
    r.regex_check = true;
    r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'700'000'000'123'456));
    r.check_id = "abc";
    r.error_detail = "x";
    r.body_bytes = 123;
    const std::string seed = vigil::encode_json(r);
    std::mt19937_64 rng(20261128);
    int decoded = 0;
    for (int i = 0; i < 100000; ++i) {
        auto input = mutate(seed, rng);
        auto result = vigil::decode_json(input);
        if (result) {
            ++decoded;
            // Whatever decodes must encode to JSON that decodes to the same record.
            auto again = vigil::decode_json(vigil::encode_json(*result.record));
            REQUIRE(again);
            CHECK(*again.record == *result.record);
        } else {
            CHECK_FALSE(result.error.empty());
        }
    }
    CHECK(decoded > 0);  // the mutator also produces valid documents, so round-trips are exercised
}

TEST_CASE("fuzz: mutated pipeline files never crash the loader and always explain themselves", "[unit][fuzz]") {
    const std::string seed = R"(pipeline: p
source:
  plugin: x
  brokers: ${BROKERS:-a:1}
  timeout: 250ms
  security: {protocol: SASL_SSL, password: "s"}
  sites:
    - {name: a, url: "http://a/"}
sinks:
  - plugin: y
)";
    const char* const protocols[] = {"PLAINTEXT", "SASL_SSL", nullptr};
    const vigil::OptionSpec security[] = {
        {.key = "protocol", .type = vigil::OptionType::String, .one_of = protocols},
        {.key = "password", .type = vigil::OptionType::Secret},
        {},
    };
    const vigil::OptionSpec site[] = {
        {.key = "name", .type = vigil::OptionType::String, .required = true},
        {.key = "url", .type = vigil::OptionType::String},
        {},
    };
    const vigil::OptionSpec options[] = {
        {.key = "brokers", .type = vigil::OptionType::String},
        {.key = "timeout", .type = vigil::OptionType::Duration, .default_value = "5s"},
        {.key = "security", .type = vigil::OptionType::Map, .children = security},
        {.key = "sites", .type = vigil::OptionType::List, .children = site},
        {},
    };
    std::mt19937_64 rng(7);
    for (int i = 0; i < 10000; ++i) {
        auto input = mutate(seed, rng);
        auto s = vigil::test::check_section(input, options, vigil::PluginKind::Source, "source", "fuzz.yaml");
        if (s->diags.has_errors()) {
            for (const auto& d : s->diags.entries()) {
                CHECK_FALSE(d.message.empty());
            }
            continue;
        }
        // A section that validated must be readable through every getter without throwing.
        if (s->node.has("brokers")) {
            CHECK_NOTHROW(s->node.get_string("brokers"));
        }
        CHECK_NOTHROW(s->node.get_duration("timeout"));
        CHECK_NOTHROW(s->node.child("security").get_string("protocol"));
        CHECK_NOTHROW(s->node.items("sites"));
    }
}

TEST_CASE("fuzz: mutated JSON site lists never crash the streaming list reader", "[unit][fuzz]") {
    const std::string seed = R"([
  {"name": "example", "url": "https://example.com", "regex": "Example Domain"},
  {"name": "python", "url": "https://www.python.org", "interval": "5s"},
  {"name": "x", "url": "http://x/", "tags": ["a", "b"]}
])";
    const vigil::OptionSpec site[] = {
        {.key = "name", .type = vigil::OptionType::String, .required = true},
        {.key = "url", .type = vigil::OptionType::String, .required = true},
        {.key = "regex", .type = vigil::OptionType::String},
        {.key = "interval", .type = vigil::OptionType::Duration, .default_value = "30s"},
        {.key = "tags", .type = vigil::OptionType::StringList},
        {},
    };
    std::mt19937_64 rng(11);
    std::size_t accepted = 0;
    for (int i = 0; i < 10000; ++i) {
        vigil::Diagnostics diags;
        vigil::for_each_in_list(mutate(seed, rng), "fuzz.json", ".", site, diags, [&](const vigil::ConfigNode& n) {
            ++accepted;
            CHECK_NOTHROW(n.get_string("name"));
            CHECK_NOTHROW(n.get_duration("interval"));
            CHECK_NOTHROW(n.get_string_list("tags"));
        });
        for (const auto& d : diags.entries()) {
            CHECK(d.location.line >= 1);  // every error is located
        }
    }
    CHECK(accepted > 0);
}

TEST_CASE("fuzz: the libFuzzer seed corpora and every kept crash input replay cleanly", "[unit][fuzz]") {
    namespace fs = std::filesystem;
    auto root = vigil::test::source_dir() / "tests" / "fuzz";
    std::size_t replayed = 0;
    for (const char* dir : {"corpus/record_decode", "regressions/record_decode"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.')
                continue;
            INFO(e.path());
            auto bytes = vigil::test::read_file(e.path());
            auto result = vigil::decode_json(bytes);
            CHECK((result || !result.error.empty()));
            auto event = vigil::decode_event_json(bytes);
            CHECK((event || !event.error.empty()));
            if (event) {
                CHECK(vigil::decode_event_json(vigil::encode_event_json(*event.event)).event == event.event);
            }
            ++replayed;
        }
    }
    const vigil::OptionSpec site[] = {
        {.key = "name", .type = vigil::OptionType::String, .required = true},
        {.key = "url", .type = vigil::OptionType::String},
        {},
    };
    for (const char* dir : {"corpus/config", "regressions/config"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.')
                continue;
            INFO(e.path());
            vigil::Diagnostics diags;
            CHECK_NOTHROW(vigil::for_each_in_list(vigil::test::read_file(e.path()), e.path().filename().string(), ".",
                                                  site, diags, [](const vigil::ConfigNode&) {}));
            ++replayed;
        }
    }
    for (const char* dir : {"corpus/json", "regressions/json"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            INFO(e.path());
            auto bytes = vigil::test::read_file(e.path());
            rapidjson::Document d;
            if (auto error = vigil::json::parse(bytes, d)) {
                CHECK_FALSE(error->reason.empty());
            } else {
                rapidjson::StringBuffer b;
                rapidjson::Writer<rapidjson::StringBuffer> w(b);
                d.Accept(w);
                rapidjson::Document again;
                CHECK_FALSE(vigil::json::parse(std::string_view(b.GetString(), b.GetSize()), again));
            }
            ++replayed;
        }
    }
    CHECK(replayed >= 10);
}
