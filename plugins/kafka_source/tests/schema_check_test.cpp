// SPDX-License-Identifier: Apache-2.0
// validate: true needs the record's schema compiled before the first message: a schema that
// does not compile is an error at start, never a source that holds every message unread.
#include <catch2/catch.hpp>

#include "kafka_source.hpp"

using vigil::plugins::kafka_source::Config;
using vigil::plugins::kafka_source::make_kafka_source;

namespace {
Config validating() {
    Config c;
    c.brokers = "127.0.0.1:1";
    c.topics = {"t"};
    c.group = "g";
    c.validate = true;
    return c;
}
}  // namespace

TEST_CASE("kafka_source: with validate, a record schema that does not compile fails the factory, naming why",
          "[unit]") {
    std::string error;
    auto source = make_kafka_source(validating(), "kafka_source.0", vigil::Logger("test"), error,
                                    R"({"type": "object", "properties": )");
    CHECK(source == nullptr);
    CHECK_THAT(error, Catch::StartsWith("validate: the record's JSON Schema does not compile: the schema is not JSON"));
}

TEST_CASE("kafka_source: with validate, the SDK's record schema compiles", "[unit]") {
    std::string error;
    auto source = make_kafka_source(validating(), "kafka_source.0", vigil::Logger("test"), error);
    CHECK(source != nullptr);
    CHECK(error.empty());
    auto plain = validating();
    plain.validate = false;
    auto unvalidated = make_kafka_source(std::move(plain), "kafka_source.1", vigil::Logger("test"), error);
    CHECK(unvalidated != nullptr);
}
