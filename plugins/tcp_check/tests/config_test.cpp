// SPDX-License-Identifier: Apache-2.0
// tcp_check's options: the sample and README cover them, targets are read strictly, and every
// bad option is one located error.
#include <catch2/catch.hpp>

#include "plugin_config.hpp"
#include "support.hpp"
#include "tcp_check_config.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::tcp_check;
using vigil::PluginKind;

namespace {
// A literal with a NUL inside, whole (its terminator left out).
template <std::size_t N>
std::string with_nul(const char (&text)[N]) {
    return std::string(text, N - 1);
}
std::unique_ptr<vigil::test::CheckedSection> section(const std::string& yaml) {
    return vigil::test::check_section("plugin: tcp_check\n" + yaml, kOptions, PluginKind::Source);
}
// The errors of parse_config on `yaml` (validation must pass).
std::string parse_errors(const std::string& yaml) {
    auto s = section(yaml);
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, s->diags);
    CHECK(c.has_value() == !s->diags.has_errors());
    return s->errors();
}
}  // namespace

TEST_CASE("tcp_check: sample.yaml validates and parses", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    REQUIRE(c->sites.size() == 3);
    CHECK(c->sites[2]->target == Target{"::1", 6379});
    CHECK(c->sites[2]->send == "PING\r\n");
}

TEST_CASE("tcp_check: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("tcp_check: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<Site>(kSiteOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<Site>(kOptions, kBoundSite).empty());  // the plugin-level defaults
}

TEST_CASE("tcp_check: targets are tcp://host:port and nothing else", "[unit][config]") {
    std::string why;
    CHECK(parse_target("tcp://127.0.0.1:80", why) == Target{"127.0.0.1", 80});
    CHECK(parse_target("tcp://[2001:db8::1]:443", why) == Target{"2001:db8::1", 443});
    CHECK(parse_target("tcp://db-1.example.com:65535", why) == Target{"db-1.example.com", 65535});
    const std::pair<const char*, const char*> bad[] = {
        {"http://example.com:80", "must start with tcp://"},
        {"tcp://example.com", "needs a port: tcp://host:port"},
        {"tcp://example.com:0", "\"0\" is not a port from 1 to 65535 (and nothing may follow it)"},
        {"tcp://example.com:65536", "\"65536\" is not a port from 1 to 65535 (and nothing may follow it)"},
        {"tcp://example.com:80/path", "\"80/path\" is not a port from 1 to 65535 (and nothing may follow it)"},
        {"tcp://:80", "\"\" is not a host name or an IPv4 address"},
        {"tcp://user@host:80", "\"user@host\" is not a host name or an IPv4 address"},
        {"tcp://[::1:80", "an IPv6 address is written [address]:port"},
        {"tcp://[not-v6]:80", "\"not-v6\" is not an IPv6 address"},
        {"tcp://ho\nst:80", "\"ho\\nst\" is not a host name or an IPv4 address"},
    };
    CHECK_FALSE(parse_target(with_nul("tcp://[::1\0@x]:80"), why));  // a NUL hid the rest from inet_pton
    for (const auto& [url, want] : bad) {
        INFO(url);
        why.clear();
        CHECK_FALSE(parse_target(url, why));
        CHECK(why == want);
    }
}

TEST_CASE("tcp_check: a site inherits the plugin-level options it does not set", "[unit][config]") {
    auto s = section(
        "interval: 5s\ntimeout: 2s\nexpect: '^220 '\nmax_read: 1KiB\ngroup: mail\nsites:\n"
        "  - {name: a, url: 'tcp://127.0.0.1:25'}\n"
        "  - {name: b, url: 'tcp://127.0.0.1:26', interval: 1s, timeout: 500ms, expect: OK, send: \"HI\\r\\n\"}\n");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    const Site& a = *c->sites[0];
    const Site& b = *c->sites[1];
    CHECK(a.interval == std::chrono::seconds(5));
    CHECK(a.timeout == std::chrono::seconds(2));
    CHECK(a.expect_text == "^220 ");
    CHECK(a.max_read == 1024);
    CHECK(a.group == "mail");
    CHECK_FALSE(a.send);
    CHECK(b.interval == std::chrono::seconds(1));
    CHECK(b.timeout == std::chrono::milliseconds(500));
    CHECK(b.expect_text == "OK");
    CHECK(b.send == "HI\r\n");
    CHECK(a.expect.get() != b.expect.get());
}

TEST_CASE("tcp_check: bad options are located errors, all of them at once", "[unit][config]") {
    CHECK(parse_errors("sites:\n  - {name: a, url: 'tcp://h:0'}\n") ==
          "test.yaml:3:20: error: sites[0].url: \"tcp://h:0\" is not a TCP target: \"0\" is not a port from 1 to "
          "65535 (and nothing may follow it)\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'tcp://h:1', expect: '(unclosed'}\n") ==
          "test.yaml:3:41: error: sites[0].expect: invalid regular expression \"(unclosed\": missing ): "
          "(unclosed\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'tcp://h:1'}\n  - {name: a, url: 'tcp://h:2'}\n") ==
          "test.yaml:4:12: error: sites[1].name: duplicate site name \"a\" (first at test.yaml:3:12)\n");
    CHECK(parse_errors("shard: 3/2\nsites: [{name: a, url: 'tcp://h:1'}]\n") ==
          "test.yaml:2:8: error: shard: \"3/2\" is not I/N with 1 <= I <= N, e.g. 2/5\n");
    CHECK(parse_errors("max_read: 2MiB\ntimeout: 0s\nsites: [{name: a, url: 'tcp://h:1'}]\n") ==
          "test.yaml:2:11: error: max_read: must be between 1B and 1MiB, got 2MiB\n"
          "test.yaml:3:10: error: timeout: must be more than 0\n");
    CHECK(parse_errors("sites: []\n") ==
          "test.yaml:1:1: error: no sites: set sites, sites_file, sites_env or sites_topic\n");
    CHECK(parse_errors("sites: [{name: \"a\\tb\", url: 'tcp://h:1'}]\n").find("sites[0].name: the site's name") !=
          std::string::npos);
}

TEST_CASE("tcp_check: a timeout longer than the interval is a warning, once", "[unit][config]") {
    auto s = section(
        "interval: 1s\ntimeout: 5s\nsites:\n  - {name: a, url: 'tcp://h:1'}\n  - {name: b, url: 'tcp://h:2'}\n");
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    CHECK(s->errors() ==
          "test.yaml:3:10: warning: timeout: timeout 5s is longer than interval 1s: a slow site will "
          "skip slots\n");
}

TEST_CASE("tcp_check: a sites_file that lists none yet is a warning; no list at all is an error", "[unit][config]") {
    vigil::test::TempDir dir;
    auto file = dir.write("tcp-sites.yaml", "# - {name: db, url: 'tcp://db:5432'}\n[]\n");
    auto s = vigil::test::check_section("plugin: tcp_check\nsites_file: " + file.string() + "\n", kOptions,
                                        PluginKind::Source);
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    CHECK(c->sites.empty());
    CHECK(s->errors() == "test.yaml:2:13: warning: sites_file: \"" + file.string() +
                             "\" lists no sites: this source checks nothing until a reload brings some\n");
    CHECK(parse_errors("interval: 5s\n") ==
          "test.yaml:1:1: error: no sites: set sites, sites_file, sites_env or sites_topic\n");
}
