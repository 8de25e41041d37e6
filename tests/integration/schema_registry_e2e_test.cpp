// SPDX-License-Identifier: Apache-2.0
// The record's JSON Schema in a real registry (Apicurio Registry of scripts/services, its
// Confluent-compatible API): kafka_sink registers it and frames each record; a consumer someone
// else wrote (confluent-kafka's Python JSONDeserializer) and kafka_source read them; an
// incompatible change is refused at start in the registry's words; a poison corpus of framed
// messages goes to the dead-letter topic with reasons.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "kafka_sink.hpp"
#include "kafka_sink_test_support.hpp"
#include "kafka_support.hpp"
#include "plugin_config.hpp"
#include "schema_registry.hpp"
#include "support.hpp"

namespace kt = vigil::test::kafka;
using vigil::test::Child;
using vigil::test::kafka_sink::make_sink;
using namespace std::chrono_literals;

namespace {

std::string registry_url() { return kt::env("SCHEMA_REGISTRY_URL"); }

vigil::Batch records(int n, const std::string& prefix) {
    vigil::Batch b;
    b.sequence = 1;
    for (int i = 0; i < n; ++i) {
        vigil::CheckRecord r;
        r.name = prefix + "-site-" + std::to_string(i % 5);
        r.url = "https://example.com/" + std::to_string(i);
        r.response_time = 10.5 + i;
        r.status_code = i % 3 == 0 ? std::optional<int>() : 200;
        r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'800'000'000'000'000 + i));
        r.check_id = prefix + "-" + std::to_string(i);
        r.agent = "probe";
        r.ok = i % 3 != 0;
        r.error = i % 3 == 0 ? std::optional<std::string>("connect") : std::nullopt;
        r.attempts = 1;
        r.location = "eu";
        b.records.push_back({r, {}});
    }
    return b;
}

// The id the registry holds for the latest schema of `subject`.
int latest_id(const std::string& subject) {
    auto r = vigil::test::run({"/usr/bin/curl", "-sS", registry_url() + "/subjects/" + subject + "/versions/latest"});
    rapidjson::Document d;
    d.Parse(r.out.c_str());
    INFO(r.out);
    REQUIRE((d.IsObject() && d.HasMember("id")));
    return d["id"].GetInt();
}

vigil::test::RunResult registry_call(const std::string& method, const std::string& path, const std::string& body) {
    return vigil::test::run({"/usr/bin/curl", "-sS", "-X", method, "-H",
                             "Content-Type: application/vnd.schemaregistry.v1+json", "--data", body,
                             registry_url() + path});
}

// kafka_source with validation reads `topic` once into out.jsonl; the agent's result.
std::unique_ptr<Child> read_once(const vigil::test::TempDir& dir, const std::string& topic) {
    auto p = dir.write("consumer.yaml", "pipeline: c\nsource:\n  plugin: kafka_source\n  brokers: " +
                                            kt::plaintext_brokers() + "\n  topics: [" + topic + "]\n  group: " + topic +
                                            "-vigil\n  validate: true\n  schema_registry: {url: \"" + registry_url() +
                                            "\"}\nsinks: [{plugin: stdout_sink, path: out.jsonl}]\n");
    return std::make_unique<Child>(
        std::vector<std::string>{vigil::test::agent_binary().string(), "--once", "--pipeline", p.string()});
}

}  // namespace

TEST_CASE(
    "schema registry: kafka_sink registers the record's schema and frames each record; Python's "
    "JSONDeserializer and kafka_source read them",
    "[integration]") {
    auto topic = kt::unique("schema-framed");
    kt::create_topic(topic, 2);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\"}\n");
    REQUIRE(sink->preflight().ok());
    REQUIRE(sink->start().ok());
    auto batch = records(40, "f");
    REQUIRE(sink->write(batch).kind == vigil::WriteResult::Kind::Accepted);
    sink->stop();
    auto id = latest_id(topic + "-value");

    // On the wire: byte 0, the id big-endian, then exactly the record's JSON.
    auto raw = kt::read_all(topic, 40);
    REQUIRE(raw.size() == 40);
    std::map<std::string, vigil::CheckRecord> by_id;
    for (const auto& r : batch.records) {
        by_id[r.check.check_id] = r.check;
    }
    for (const auto& m : raw) {
        auto u = vigil::registry::unframe(m.value);
        REQUIRE(u.id == static_cast<std::uint32_t>(id));
        auto decoded = vigil::decode_json(u.payload);
        REQUIRE(decoded);
        CHECK(*decoded.record == by_id[decoded.record->check_id]);
    }

    // Someone else's consumer: the writer's schema fetched by id, each record validated by jsonschema.
    auto python = (vigil::test::source_dir() / ".venv-test/bin/python").string();
    INFO("needs confluent-kafka in .venv-test: run scripts/install-deps");
    REQUIRE(std::filesystem::exists(python));
    auto py =
        vigil::test::run({python, (vigil::test::source_dir() / "tests/integration/confluent_consumer.py").string(),
                          kt::plaintext_brokers(), topic, registry_url(), "40"},
                         {}, 90s);
    INFO(py.err);
    REQUIRE(py.code == 0);
    std::size_t lines = 0;
    for (std::size_t at = 0; (at = py.out.find('\n', at)) != std::string::npos; ++at) {
        ++lines;
    }
    CHECK(lines == 40);
    CHECK(py.out.find("\"location\": \"eu\"") != std::string::npos);
    CHECK(py.out.find("\"status_code\": null") != std::string::npos);

    // kafka_source, validating against the schema the id names.
    vigil::test::TempDir dir;
    auto agent = read_once(dir, topic);
    REQUIRE(agent->wait(90s) == 0);
    INFO(agent->err());
    CHECK(agent->err().find("schema id " + std::to_string(id) + " fetched from") != std::string::npos);
    std::size_t stored = 0;
    for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
        auto r = vigil::decode_json(line);
        REQUIRE(r);
        CHECK(*r.record == by_id[r.record->check_id]);
        ++stored;
    }
    CHECK(stored == 40);
}

TEST_CASE("schema registry: wire_format header keeps the plain JSON body and puts the id in a header",
          "[integration]") {
    auto topic = kt::unique("schema-header");
    kt::create_topic(topic, 1);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\", wire_format: header}\n");
    REQUIRE(sink->preflight().ok());
    REQUIRE(sink->start().ok());
    REQUIRE(sink->write(records(5, "h")).kind == vigil::WriteResult::Kind::Accepted);
    sink->stop();
    auto raw = kt::read_all(topic, 5);
    REQUIRE(raw.size() == 5);
    for (const auto& m : raw) {
        CHECK(vigil::decode_json(m.value));  // what the original project's consumer reads, unchanged
        REQUIRE(m.headers.count(vigil::registry::kSchemaIdHeader) == 1);
        CHECK(m.headers.at(vigil::registry::kSchemaIdHeader) == std::to_string(latest_id(topic + "-value")));
    }
}

TEST_CASE("schema registry: an incompatible change is refused at start, in the registry's words", "[integration]") {
    auto topic = kt::unique("schema-incompatible");
    auto subject = topic + "-value";
    // The subject already holds a schema whose status_code is a string, under BACKWARD compatibility.
    REQUIRE(registry_call("PUT", "/config/" + subject, R"({"compatibility":"BACKWARD"})").code == 0);
    auto old =
        registry_call("POST", "/subjects/" + subject + "/versions",
                      R"({"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"name\":)"
                      R"({\"type\":\"string\"},\"status_code\":{\"type\":\"string\"}},\"required\":[\"name\"]}"})");
    INFO(old.out);
    REQUIRE(old.out.find("\"id\"") != std::string::npos);
    vigil::test::TempDir dir;
    auto p = dir.write("producer.yaml",
                       "pipeline: p\nsource:\n  plugin: http_check\n  sites: [{name: a, url: "
                       "\"http://127.0.0.1:1/\"}]\nsinks:\n  - plugin: kafka_sink\n    brokers: " +
                           kt::plaintext_brokers() + "\n    topic: " + topic + "\n    schema_registry:\n      url: \"" +
                           registry_url() + "\"\n");
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "--pipeline", p.string()}, {}, 60s);
    INFO(r.err);
    CHECK(r.code == 78);
    CHECK(r.err.find(p.string() + ":10:7: error: sinks[0].schema_registry: subject " + subject +
                     " refused the record's schema: ") != std::string::npos);
    CHECK(r.err.find("Incompatible") != std::string::npos);
    CHECK(r.err.find("(HTTP 409)") != std::string::npos);
}

TEST_CASE(
    "schema registry: framed poison (unknown id, cut framing, a record the schema refuses, a bad header "
    "id) is dead-lettered with reasons; the good ones are stored",
    "[integration]") {
    auto topic = kt::unique("schema-poison");
    kt::create_topic(topic, 1);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\"}\n");
    REQUIRE(sink->preflight().ok());
    REQUIRE(sink->start().ok());
    REQUIRE(sink->write(records(3, "g")).kind == vigil::WriteResult::Kind::Accepted);  // offsets 0-2
    sink->stop();
    auto id = static_cast<std::uint32_t>(latest_id(topic + "-value"));
    auto framed = [](std::uint32_t schema, const std::string& json) {
        std::string out;
        vigil::registry::frame(schema, json, out);
        return out;
    };
    const std::string good = R"({"name":"p","url":"u","response_time":1,"status_code":200,"regex":null,)"
                             R"("regex_check":null,"timestamp":"2026-01-01T00:00:00Z"})";
    const std::string wrong_type = R"({"name":"p","url":"u","response_time":1,"status_code":"200","regex":null,)"
                                   R"("regex_check":null,"timestamp":"2026-01-01T00:00:00Z"})";
    kt::produce(topic, {{"unknown-id", framed(987654321, good), 0},                    // offset 3
                        {"cut", std::string("\0\0\0", 3), 0},                          // 4
                        {"wrong-type", framed(id, wrong_type), 0},                     // 5
                        {"plain-wrong", wrong_type, 0},                                // 6
                        {"bad-header", good, 0, -1, {{"vigil.schema.id", "twelve"}}},  // 7
                        {"framed-not-json", framed(id, "{\"name\": "), 0},             // 8
                        {"plain-good", good, 0}});                                     // 9
    vigil::test::TempDir dir;
    auto agent = read_once(dir, topic);
    REQUIRE(agent->wait(90s) == 0);
    INFO(agent->err());
    CHECK(vigil::test::read_lines(dir / "out.jsonl").size() == 4);  // the three framed good ones, the plain one
    auto dead = kt::read_all(topic + ".dlq", 6);
    REQUIRE(dead.size() == 6);
    std::map<std::string, std::string> why;
    for (const auto& d : dead) {
        why[d.key] = d.headers.at("vigil.reason");
    }
    CHECK_THAT(why["unknown-id"], Catch::StartsWith("schema id 987654321 is unknown to the registry"));
    CHECK(why["cut"] == "truncated Confluent framing: 3 byte(s), 5 needed for the magic byte and schema id");
    CHECK(why["wrong-type"] ==
          "does not match schema " + std::to_string(id) + ": type at /status_code (schema #/properties/status_code)");
    CHECK(why["plain-wrong"] ==
          "does not match the record's schema: type at /status_code (schema "
          "#/properties/status_code)");
    CHECK(why["bad-header"] == "header vigil.schema.id \"twelve\" is not a schema id");
    CHECK(why["framed-not-json"] ==
          "does not match schema " + std::to_string(id) + ": not JSON: Invalid value. at byte 9");
}

TEST_CASE("hostile: poison pills through validate: true are dead-lettered once and reading goes on", "[hostile]") {
    auto topic = kt::unique("schema-hostile");
    kt::create_topic(topic, 1);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\"}\n");
    REQUIRE(sink->preflight().ok());
    REQUIRE(sink->start().ok());
    REQUIRE(sink->write(records(1, "h")).kind == vigil::WriteResult::Kind::Accepted);  // offset 0
    sink->stop();
    auto id = static_cast<std::uint32_t>(latest_id(topic + "-value"));
    auto framed = [&](const std::string& json) {
        std::string out;
        vigil::registry::frame(id, json, out);
        return out;
    };
    auto good = [](const std::string& response_time) {
        return R"({"name":"p","url":"u","response_time":)" + response_time +
               R"(,"status_code":200,"regex":null,"regex_check":null,"timestamp":"2026-01-01T00:00:00Z"})";
    };
    std::string deep_objects;
    for (int i = 0; i < 100'000; ++i) {
        deep_objects += "{\"a\":";
    }
    // Issue 26's shapes: each crashed the validator or the decoder (RapidJSON 1.1.0's number
    // parsing), or held it for seconds (nesting); the first two are valid numbers, read as 0.
    kt::produce(topic, {{"exponent", framed(good("0.00000000001e-2147483639")), 0},     // 1: stored
                        {"precision", framed(good("0.11111111111111111111e-330")), 0},  // 2: stored
                        {"deep", framed(std::string(500'000, '[')), 0},                 // 3
                        {"deep-objects", framed(deep_objects), 0},                      // 4
                        {"nul", framed(good("1") + std::string(1, '\0') + "{}"), 0},    // 5
                        {"after", framed(good("2")), 0}});                              // 6: stored
    vigil::test::TempDir dir;
    auto agent = read_once(dir, topic);
    REQUIRE(agent->wait(90s) == 0);
    INFO(agent->err());
    CHECK(vigil::test::read_lines(dir / "out.jsonl").size() == 4);
    auto dead = kt::read_all(topic + ".dlq", 3);
    REQUIRE(dead.size() == 3);
    std::map<std::string, std::string> why;
    for (const auto& d : dead) {
        why[d.key] = d.headers.at("vigil.reason");
    }
    const auto prefix = "does not match schema " + std::to_string(id) + ": not JSON: ";
    CHECK(why["deep"] == prefix + "nesting deeper than 64 levels at byte 64");
    CHECK(why["deep-objects"] == prefix + "nesting deeper than 64 levels at byte 320");
    CHECK(why["nul"] ==
          prefix + "a NUL byte, which JSON text may not hold at byte " + std::to_string(good("1").size()));
    // Offsets were committed past them: a second run reads nothing and dead-letters nothing more.
    vigil::test::TempDir again;
    auto second = read_once(again, topic);
    REQUIRE(second->wait(90s) == 0);
    CHECK(vigil::test::read_lines(again / "out.jsonl").empty());
    CHECK(kt::read_all(topic + ".dlq", 3).size() == 3);
}

TEST_CASE(
    "schema registry: each kind's records carry their kind's own schema; a DNS record claiming an HTTP "
    "status is dead-lettered",
    "[integration]") {
    auto topic = kt::unique("schema-kinds");
    kt::create_topic(topic, 1);
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\"}\n");
    REQUIRE(sink->preflight().ok());
    REQUIRE(sink->start().ok());
    auto batch = records(4, "k");  // k-site-0: no kind (a plugin of someone's, an older producer)
    batch.records[1].check.kind = "http";
    batch.records[2].check.kind = "dns";
    batch.records[2].check.status_code.reset();
    batch.records[2].check.rcode = "NOERROR";
    batch.records[2].check.answers = "192.0.2.1";
    batch.records[3].check.kind = "icmp";
    batch.records[3].check.status_code.reset();
    batch.records[3].check.packet_loss = 0.0;
    REQUIRE(sink->write(batch).kind == vigil::WriteResult::Kind::Accepted);  // offsets 0-3
    sink->stop();
    std::map<std::string, int> id_of = {{"k-site-0", latest_id(topic + "-value")},
                                        {"k-site-1", latest_id(topic + "-vigil.check.http")},
                                        {"k-site-2", latest_id(topic + "-vigil.check.dns")},
                                        {"k-site-3", latest_id(topic + "-vigil.check.icmp")}};
    for (const auto& kind : {"tcp", "tls"}) {
        CHECK(latest_id(topic + "-vigil.check." + kind) > 0);  // every kind registered at start
    }
    auto written = kt::read_all(topic, 4);
    REQUIRE(written.size() == 4);
    for (const auto& m : written) {
        INFO(m.key);
        auto u = vigil::registry::unframe(m.value);
        REQUIRE(u.id);
        CHECK(static_cast<int>(*u.id) == id_of.at(m.key));
    }
    CHECK(id_of["k-site-2"] != id_of["k-site-0"]);
    std::string forged;
    vigil::registry::frame(static_cast<std::uint32_t>(id_of["k-site-2"]),
                           R"({"name":"f","url":"dns://ns/a","response_time":1,"status_code":200,"regex":null,)"
                           R"("regex_check":null,"timestamp":"2026-01-01T00:00:00Z","kind":"dns"})",
                           forged);
    kt::produce(topic, {{"forged", forged, 0}});  // offset 4
    vigil::test::TempDir dir;
    auto agent = read_once(dir, topic);
    REQUIRE(agent->wait(90s) == 0);
    INFO(agent->err());
    CHECK(vigil::test::read_lines(dir / "out.jsonl").size() == 4);  // each kind valid against its own schema
    auto dead = kt::read_all(topic + ".dlq", 1);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].key == "forged");
    CHECK(dead[0].headers.at("vigil.reason") == "does not match schema " + std::to_string(id_of["k-site-2"]) +
                                                    ": type at /status_code (schema #/properties/status_code)");

    // kind_subjects: false: one schema for every record, as before kinds had their own.
    auto single = kt::unique("schema-one");
    kt::create_topic(single, 1);
    auto one = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + single + "\nschema_registry: {url: \"" +
                         registry_url() + "\", kind_subjects: false}\n");
    REQUIRE(one->start().ok());
    auto dns = records(1, "o");
    dns.records[0].check.kind = "dns";
    REQUIRE(one->write(dns).kind == vigil::WriteResult::Kind::Accepted);
    one->stop();
    auto plain = kt::read_all(single, 1);
    REQUIRE(plain.size() == 1);
    CHECK(vigil::registry::unframe(plain[0].value).id == static_cast<std::uint32_t>(latest_id(single + "-value")));
}

namespace {
// The record's schema as the release before held it: without its newest field.
std::string schema_without(const std::string& field) {
    rapidjson::Document d;
    d.Parse(vigil::record_json_schema().c_str());
    d["properties"].RemoveMember(field.c_str());
    rapidjson::StringBuffer schema;
    rapidjson::Writer<rapidjson::StringBuffer> w(schema);
    d.Accept(w);
    rapidjson::StringBuffer body;
    rapidjson::Writer<rapidjson::StringBuffer> b(body);
    b.StartObject();
    b.Key("schemaType");
    b.String("JSON");
    b.Key("schema");
    b.String(schema.GetString(), schema.GetSize());
    b.EndObject();
    return body.GetString();
}

// kafka_sink with a registry against `topic`: what starting it says.
vigil::Status start_sink(const std::string& topic) {
    auto sink = make_sink("brokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\nschema_registry: {url: \"" +
                          registry_url() + "\", kind_subjects: false}\n");
    auto st = sink->start();
    sink->stop();
    return st;
}
}  // namespace

TEST_CASE(
    "schema registry: a release that adds a field is accepted under FORWARD_TRANSITIVE and refused under "
    "BACKWARD, as kafka_sink's README says",
    "[integration]") {
    for (const std::string rule : {"FORWARD_TRANSITIVE", "BACKWARD"}) {
        INFO(rule);
        auto topic = kt::unique("schema-evolve");
        auto subject = topic + "-value";
        REQUIRE(registry_call("PUT", "/config/" + subject, R"({"compatibility":")" + rule + R"("})").code == 0);
        auto previous = registry_call("POST", "/subjects/" + subject + "/versions", schema_without("ocsp_status"));
        INFO(previous.out);
        REQUIRE(previous.out.find("\"id\"") != std::string::npos);
        auto st = start_sink(topic);
        if (rule == "BACKWARD") {
            // An added property narrows an open content model: a reader with the new schema might
            // meet old data whose unknown ocsp_status had another type.
            CHECK_THAT(st.message(), Catch::Contains("OBJECT_TYPE_PROPERTY_SCHEMAS_NARROWED"));
        } else {
            CHECK(st.message() == "");
            CHECK(st.ok());
        }
    }
}
