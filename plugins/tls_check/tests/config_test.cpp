// SPDX-License-Identifier: Apache-2.0
// tls_check's options: the sample and README cover them, targets are read strictly, the STARTTLS
// protocol follows the port unless named, and every bad option is one located error.
#include <catch2/catch.hpp>

#include "plugin_config.hpp"
#include "prober.hpp"
#include "support.hpp"
#include "sites_topic.hpp"
#include "tls_check_config.hpp"
#include "vigil/config_map.hpp"

using namespace vigil::plugins::tls_check;
using vigil::PluginKind;

namespace {
std::unique_ptr<vigil::test::CheckedSection> section(const std::string& yaml) {
    return vigil::test::check_section("plugin: tls_check\n" + yaml, kOptions, PluginKind::Source);
}
std::string parse_errors(const std::string& yaml) {
    auto s = section(yaml);
    REQUIRE(s->errors() == "");
    auto c = parse_config(s->node, s->diags);
    CHECK(c.has_value() == !s->diags.has_errors());
    return s->errors();
}
}  // namespace

TEST_CASE("tls_check: sample.yaml validates and parses", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(c);
    REQUIRE(c->sites.size() == 4);
    CHECK_FALSE(c->sites[0]->target.starttls);
    CHECK(c->sites[1]->protocol == Protocol::Smtp);  // by its port, 587
    CHECK(c->sites[2]->protocol == Protocol::Postgres);
    CHECK(c->sites[3]->protocol == Protocol::Imap);
    CHECK(c->sites[0]->min_cert_validity == std::chrono::hours(24 * 14));
    CHECK(c->sites[0]->min_version == TlsVersion::Tls12);
}

TEST_CASE("tls_check: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("tls_check: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<Site>(kSiteOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<Site>(kOptions, kBoundSite).empty());
}

TEST_CASE("tls_check: targets are tls://host:port or starttls://host:port", "[unit][config]") {
    std::string why;
    auto t = parse_target("tls://example.com:443", why);
    REQUIRE(t);
    CHECK_FALSE(t->starttls);
    CHECK(t->at.host == "example.com");
    CHECK(t->at.port == 443);
    t = parse_target("starttls://[2001:db8::25]:25", why);
    REQUIRE(t);
    CHECK(t->starttls);
    CHECK(t->at.host == "2001:db8::25");
    CHECK_FALSE(parse_target("https://example.com:443", why));
    CHECK(why == "must start with tls:// or starttls://");
    CHECK_FALSE(parse_target("tls://example.com", why));
    CHECK(why == "needs a port: tls://host:port");
    CHECK_FALSE(parse_target("starttls://example.com:25/x", why));
    CHECK(why == "\"25/x\" is not a port from 1 to 65535 (and nothing may follow it)");
}

TEST_CASE("tls_check: bad options are located errors", "[unit][config]") {
    CHECK(parse_errors("sites:\n  - {name: a, url: 'starttls://h:2525'}\n") ==
          "test.yaml:3:20: error: sites[0].url: port 2525 is not one a STARTTLS protocol is known by: set starttls "
          "to smtp, imap, pop3, ftp, xmpp or postgres\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'tls://h:443', ca_file: /nonexistent/ca.pem}\n") ==
          "test.yaml:3:44: error: sites[0].ca_file: \"/nonexistent/ca.pem\" is not a file\n");
    CHECK(parse_errors("sites:\n  - {name: a, url: 'tls://h'}\n") ==
          "test.yaml:3:20: error: sites[0].url: \"tls://h\" is not a TLS target: needs a port: tls://host:port\n");
    auto s = section("min_version: ssl3\nsites: [{name: a, url: 'tls://h:443'}]\n");
    CHECK(s->errors().find("test.yaml:2:14: error: min_version:") == 0);
}

TEST_CASE("tls_check: a certificate is judged trusted first, then not revoked, then valid long enough", "[unit]") {
    using namespace std::chrono_literals;
    Site s;
    s.target.at.host = "mail.example.com";
    vigil::Timestamp now{std::chrono::seconds(1'800'000'000)};
    CertFacts facts{true, "", now + std::chrono::hours(24 * 30), std::nullopt};
    CHECK(judge_certificate(s, facts, now).first == Failure::None);
    s.min_cert_validity = std::chrono::hours(24 * 60);
    CHECK(judge_certificate(s, facts, now) ==
          std::pair{Failure::Expiring, std::string("the certificate expires at 2027-02-14T08:00:00.000000Z, in 30.0 "
                                                   "days: less than min_cert_validity 60d")});
    facts.ocsp = "revoked";
    CHECK(judge_certificate(s, facts, now).first == Failure::Revoked);
    facts.verify_error = "certificate has expired";
    CHECK(judge_certificate(s, facts, now) ==
          std::pair{Failure::Certificate, std::string("certificate has expired (for mail.example.com)")});
    s.verify = false;  // recorded, not judged: the OCSP answer still counts
    CHECK(judge_certificate(s, facts, now).first == Failure::Revoked);
    CHECK(judge_certificate(s, CertFacts{}, now).second == "the server sent no certificate");
}

TEST_CASE("tls_check: a sites-topic message may name a CA file of the producer's only when allowed", "[unit][config]") {
    auto s = section("sites_topic: {topic: t, group: g, brokers: '127.0.0.1:1'}\n");
    REQUIRE(s->errors() == "");
    auto read = kKind.make_reader();
    auto attempt = [&](const vigil::checks::TopicPolicy& policy) {
        return vigil::checks::read_topic_entry(
            "mail",
            R"({"name": "mail", "url": "tls://127.0.0.1:465", "ca_file": "/etc/ssl/certs/ca-certificates.crt"})",
            "t/0/7", kSiteOptions, [&](const vigil::ConfigNode& entry, vigil::Diagnostics& d) {
                return vigil::checks::read_topic_site(kKind, read, policy, s->node, entry, d).has_value();
            });
    };
    auto refused = attempt({});
    REQUIRE(refused);
    CHECK(refused->find("[0].ca_file: a sites-topic message may not set ca_file unless sites_topic.allow lists it") !=
          std::string::npos);
    CHECK_FALSE(attempt({.allow = {"ca_file"}}));
}
