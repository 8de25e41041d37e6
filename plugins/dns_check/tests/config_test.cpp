// SPDX-License-Identifier: Apache-2.0
// dns_check's options: the sample and README cover them, targets are read strictly, and every
// bad option is one located error.
#include <catch2/catch.hpp>

#include "dns_check_config.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::dns_check;
using vigil::PluginKind;

namespace {
// A literal with a NUL inside, whole (its terminator left out).
template <std::size_t N>
std::string with_nul(const char (&text)[N]) {
    return std::string(text, N - 1);
}
std::unique_ptr<vigil::test::CheckedSection> section(const std::string& yaml) {
    return vigil::test::check_section("plugin: dns_check\n" + yaml, kOptions, PluginKind::Source);
}
// The errors of parse_config on `yaml` (validation must pass).
std::string parse_errors(const std::string& yaml) {
    auto s = section(yaml);
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, s->diags);
    CHECK(c.has_value() == !s->diags.has_errors());
    return s->errors();
}
Target target(std::string server, std::uint16_t port, std::string name, std::string type, int qtype) {
    return Target{std::move(server), port, std::move(name), std::move(type), qtype};
}
}  // namespace

TEST_CASE("dns_check: sample.yaml validates and parses", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    REQUIRE(c->sites.size() == 4);
    CHECK(c->sites[0]->target == target("", 53, "www.example.com", "A", 1));
    CHECK(c->sites[2]->target == target("2001:4860:4860::8888", 53, "example.com", "MX", 15));
    CHECK(c->sites[3]->rcode == "NXDOMAIN");
}

TEST_CASE("dns_check: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("dns_check: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<Site>(kSiteOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<Site>(kOptions, kBoundSite).empty());  // the plugin-level defaults
}

TEST_CASE("dns_check: targets are dns://[server[:port]]/name[?type=T] and nothing else", "[unit][config]") {
    std::string why;
    CHECK(parse_target("dns:///example.com", why) == target("", 53, "example.com", "A", 1));
    CHECK(parse_target("dns://192.0.2.1/example.com.", why) == target("192.0.2.1", 53, "example.com", "A", 1));
    CHECK(parse_target("dns://192.0.2.1:5353/a.example?type=aaaa", why) ==
          target("192.0.2.1", 5353, "a.example", "AAAA", 28));
    CHECK(parse_target("dns://[2001:db8::1]/_sip._tcp.example?type=SRV", why) ==
          target("2001:db8::1", 53, "_sip._tcp.example", "SRV", 33));
    CHECK(parse_target("dns://[::1]:53/example?type=CAA", why) == target("::1", 53, "example", "CAA", 257));
    const std::pair<const char*, const char*> bad[] = {
        {"tcp://192.0.2.1/example.com", "must start with dns://"},
        {"dns://192.0.2.1", "has no name to ask for: dns://server/name"},
        {"dns://192.0.2.1/", "has no name to ask for: dns://server/name"},
        {"dns://ns1.example.com/example.com",
         "the server \"ns1.example.com\" is not an IPv4 address or a bracketed IPv6 one (a resolver is named by "
         "address; leave it out for the system's: dns:///name)"},
        {"dns://192.0.2.1:0/example.com", "\"0\" is not a port from 1 to 65535"},
        {"dns://192.0.2.1:x/example.com", "\"x\" is not a port from 1 to 65535"},
        {"dns://[::1/example.com", "an IPv6 server is written [address] or [address]:port"},
        {"dns://[nope]/example.com", "\"nope\" is not an IPv6 address"},
        {"dns:///exa mple.com", "the name holds ' ': only letters, digits, '-', '_' and '*' are allowed"},
        {"dns:///a..b", "the name has an empty label (two dots in a row, or a leading dot)"},
        {"dns:///a..", "the name has an empty label (two dots in a row, or a leading dot)"},
        {"dns:///ex\nample", "the name holds '\\n': only letters, digits, '-', '_' and '*' are allowed"},
        {"dns:///example.com?class=CH", "the only query parameter is type=, e.g. ?type=MX"},
        {"dns:///example.com?type=AXFR",
         "\"AXFR\" is not a type dns_check asks for; one of A, AAAA, CNAME, MX, NS, TXT, SOA, CAA, SRV, PTR"},
    };
    for (const auto& [url, want] : bad) {
        INFO(url);
        why.clear();
        CHECK_FALSE(parse_target(url, why));
        CHECK(why == want);
    }
    why.clear();
    // inet_pton reads a C string: a NUL would hide what follows it.
    CHECK_FALSE(parse_target(with_nul("dns://192.0.2.1\0junk/x"), why));
    CHECK(why.find("is not an IPv4 address") != std::string::npos);
    CHECK_FALSE(parse_target(with_nul("dns://[::1\0@x]/x"), why));
    CHECK(why.find("is not an IPv6 address") != std::string::npos);
    CHECK_FALSE(parse_target("dns:///" + std::string(64, 'a') + ".example", why));
    CHECK(why == "a label of the name is longer than 63 characters");
    CHECK_FALSE(parse_target("dns:///" + std::string(254, 'a'), why));
    CHECK(why == "the name is 254 characters long; a DNS name has 253 at most");
}

TEST_CASE("dns_check: a site inherits the plugin-level options it does not set", "[unit][config]") {
    auto s = section(
        "interval: 5s\ntimeout: 2s\nrecursion: false\ntransport: tcp\ngroup: dns\nsites:\n"
        "  - {name: a, url: 'dns:///example.com'}\n"
        "  - {name: b, url: 'dns:///example.com', interval: 1s, timeout: 500ms, answers: [b, a, b], recursion: true,"
        " transport: udp, allow_empty: true}\n");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    const Site& a = *c->sites[0];
    const Site& b = *c->sites[1];
    CHECK(a.interval == std::chrono::seconds(5));
    CHECK(a.timeout == std::chrono::seconds(2));
    CHECK(a.rcode == "NOERROR");
    CHECK_FALSE(a.recursion);
    CHECK(a.transport == Transport::Tcp);
    CHECK_FALSE(a.allow_empty);
    CHECK(a.group == "dns");
    CHECK(b.interval == std::chrono::seconds(1));
    CHECK(b.timeout == std::chrono::milliseconds(500));
    CHECK(b.answers == std::vector<std::string>{"a", "b"});  // a set
    CHECK(b.recursion);
    CHECK(b.transport == Transport::Udp);
    CHECK(b.allow_empty);
}

TEST_CASE("dns_check: bad options are located errors, all of them at once", "[unit][config]") {
    CHECK(parse_errors("sites:\n  - {name: a, url: 'dns://h/x'}\n") ==
          "test.yaml:3:20: error: sites[0].url: \"dns://h/x\" is not a DNS target: the server \"h\" is not an IPv4 "
          "address or a bracketed IPv6 one (a resolver is named by address; leave it out for the system's: "
          "dns:///name)\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'dns:///x', expect: '(unclosed'}\n") ==
          "test.yaml:3:40: error: sites[0].expect: invalid regular expression \"(unclosed\": missing ): "
          "(unclosed\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'dns:///x', rcode: NXDOMAIN, answers: [1.2.3.4]}\n") ==
          "test.yaml:3:58: error: sites[0].answers: an answer with rcode NXDOMAIN holds no records to compare: "
          "answers and expect need rcode NOERROR\n");
    CHECK(parse_errors("timeout: 0s\nsites: [{name: a, url: 'dns:///x'}]\n") ==
          "test.yaml:2:10: error: timeout: must be more than 0\n");
    CHECK(parse_errors("sites: []\n") ==
          "test.yaml:1:1: error: no sites: set sites, sites_file, sites_env or sites_topic\n");
    auto s = section("rcode: NOPE\nsites: [{name: a, url: 'dns:///x'}]\n");
    CHECK(s->errors().find("test.yaml:2:8: error: rcode:") == 0);
}
