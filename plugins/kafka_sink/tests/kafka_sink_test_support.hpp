// SPDX-License-Identifier: Apache-2.0
// What kafka_sink's tests and the schema registry's end-to-end test share: a sink made from
// YAML the way the agent makes it.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "kafka_sink.hpp"
#include "plugin_config.hpp"

namespace vigil::test::kafka_sink {

inline std::unique_ptr<vigil::plugins::kafka_sink::KafkaSink> make_sink(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: kafka_sink\n" + yaml, vigil::plugins::kafka_sink::kOptions,
                                        vigil::PluginKind::Sink);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = vigil::plugins::kafka_sink::parse_config(s->node, "vigil-test", s->diags);
    INFO(s->errors());
    REQUIRE(c);
    return std::make_unique<vigil::plugins::kafka_sink::KafkaSink>(std::move(*c), "kafka_sink.test",
                                                                   vigil::Logger("kafka_sink.test"));
}

}  // namespace vigil::test::kafka_sink
