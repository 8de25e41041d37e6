// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "config/interpolate.hpp"

using vigil::config::interpolate;

TEST_CASE("${VAR} and ${VAR:-default} expand from the environment snapshot", "[unit][config]") {
    vigil::config::Environment env{{"HOST", "kafka:9092"}, {"EMPTY", ""}};
    std::string error;
    CHECK(interpolate("${HOST}", env, error) == "kafka:9092");
    CHECK(interpolate("x-${HOST}-y", env, error) == "x-kafka:9092-y");
    CHECK(interpolate("${MISSING:-30s}", env, error) == "30s");
    CHECK(interpolate("${EMPTY:-fallback}", env, error) == "fallback");
    CHECK(interpolate("${MISSING:-}", env, error) == "");
    CHECK(interpolate("cost $$5 and $x", env, error) == "cost $5 and $x");
    CHECK(interpolate("no variables", env, error) == "no variables");
}

TEST_CASE("interpolation errors name the variable", "[unit][config]") {
    vigil::config::Environment env;
    std::string error;
    CHECK_FALSE(interpolate("${KAFKA_BOOTSTRAP_SERVERS}", env, error));
    CHECK(error ==
          "environment variable KAFKA_BOOTSTRAP_SERVERS is not set (use "
          "${KAFKA_BOOTSTRAP_SERVERS:-default} for a default)");
    CHECK_FALSE(interpolate("${OPEN", env, error));
    CHECK(error == "unterminated \"${\" at character 1 of the value (write $$ for a literal $)");
    // A value with a stray "${" may be a password: where, never what.
    CHECK_FALSE(interpolate("hunter2${1BAD}", env, error));
    CHECK(error.find("invalid variable name in the \"${\" at character 8 of the value") == 0);
    CHECK(error.find("hunter2") == std::string::npos);
    CHECK(error.find("1BAD") == std::string::npos);
    CHECK_FALSE(interpolate("s3cr${et", env, error));
    CHECK(error.find("s3cr") == std::string::npos);
}
