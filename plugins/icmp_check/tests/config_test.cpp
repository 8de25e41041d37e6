// SPDX-License-Identifier: Apache-2.0
// icmp_check's options: the sample and README cover them, targets are read strictly, and every
// bad option is one located error.
#include <catch2/catch.hpp>

#include "icmp_check_config.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::icmp_check;
using vigil::PluginKind;

namespace {
// A literal with a NUL inside, whole (its terminator left out).
template <std::size_t N>
std::string with_nul(const char (&text)[N]) {
    return std::string(text, N - 1);
}
std::unique_ptr<vigil::test::CheckedSection> section(const std::string& yaml) {
    return vigil::test::check_section("plugin: icmp_check\n" + yaml, kOptions, PluginKind::Source);
}
std::string parse_errors(const std::string& yaml) {
    auto s = section(yaml);
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, s->diags);
    CHECK(c.has_value() == !s->diags.has_errors());
    return s->errors();
}
}  // namespace

TEST_CASE("icmp_check: sample.yaml validates and parses", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    REQUIRE(c->sites.size() == 3);
    CHECK(c->sites[1]->host == "2001:db8::53");
    CHECK(c->sites[1]->max_rtt == std::chrono::milliseconds(20));
    CHECK(c->sites[2]->packets == 5);
    CHECK(c->sites[2]->max_loss == 20.0);
    CHECK_FALSE(c->sites[0]->max_loss);
    CHECK(c->sites[0]->packet_interval == std::chrono::milliseconds(200));
    CHECK(c->sites[0]->timeout == std::chrono::seconds(1));
}

TEST_CASE("icmp_check: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("icmp_check: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<Site>(kSiteOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<Site>(kOptions, kBoundSite).empty());
}

TEST_CASE("icmp_check: targets are icmp://host and nothing else", "[unit][config]") {
    std::string why;
    CHECK(parse_target("icmp://192.0.2.1", why) == "192.0.2.1");
    CHECK(parse_target("icmp://::1", why) == "::1");
    CHECK(parse_target("icmp://[2001:db8::1]", why) == "2001:db8::1");
    CHECK(parse_target("icmp://gw-1.example.com", why) == "gw-1.example.com");
    const std::pair<const char*, const char*> bad[] = {
        {"tcp://192.0.2.1", "must start with icmp://"},
        {"icmp://", "\"\" is not a host name or an IP address (a port or a path has no meaning here)"},
        {"icmp://192.0.2.1:80",
         "\"192.0.2.1:80\" is not a host name or an IP address (a port or a path has no "
         "meaning here)"},
        {"icmp://host/path",
         "\"host/path\" is not a host name or an IP address (a port or a path has no meaning "
         "here)"},
        {"icmp://[::1", "an IPv6 address is written [address] (and nothing may follow it)"},
        {"icmp://[nope]", "\"nope\" is not an IPv6 address"},
    };
    CHECK_FALSE(parse_target(with_nul("icmp://[::1\0@x]"), why));  // a NUL hid the rest from inet_pton
    CHECK_FALSE(parse_target(with_nul("icmp://::1\0@x"), why));
    for (const auto& [url, want] : bad) {
        INFO(url);
        why.clear();
        CHECK_FALSE(parse_target(url, why));
        CHECK(why == want);
    }
}

TEST_CASE("icmp_check: bad options are located errors; a check longer than its interval is a warning",
          "[unit][config]") {
    CHECK(parse_errors("sites:\n  - {name: a, url: 'icmp://h:1'}\n") ==
          "test.yaml:3:20: error: sites[0].url: \"icmp://h:1\" is not an ICMP target: \"h:1\" is not a host name or "
          "an IP address (a port or a path has no meaning here)\n");
    CHECK(parse_errors("max_loss: 150\nsites: [{name: a, url: 'icmp://h'}]\n") ==
          "test.yaml:2:11: error: max_loss: must be a percent from 0 to 100, got 150\n");
    CHECK(parse_errors("packets: 0\npacket_interval: 1ms\nsites: [{name: a, url: 'icmp://h'}]\n") ==
          "test.yaml:2:10: error: packets: must be between 1 and 100, got 0\n"
          "test.yaml:3:18: error: packet_interval: must be at least 10ms, got 1ms\n");
    CHECK(
        parse_errors("interval: 1s\npackets: 10\nsites: [{name: a, url: 'icmp://h'}, {name: b, url: 'icmp://i'}]\n") ==
        "test.yaml:3:10: warning: packets: 10 packets 200ms apart, each answered within 1s, take up to 2800ms: "
        "longer than the interval 1s, so checks will skip slots\n");
}
