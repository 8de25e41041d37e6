// SPDX-License-Identifier: Apache-2.0
// tls_check against real TLS servers (tls_fixture.py): a good certificate, an expired one, one for
// another name, a self-signed one, one about to expire; STARTTLS in SMTP, IMAP, POP3, FTP, XMPP and
// PostgreSQL, a server that offers none, one that refuses, one that never answers.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <fmt/core.h>

#include "capture.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "tls_check.hpp"

using namespace vigil::plugins::tls_check;
using vigil::test::Capture;

namespace {
// The fixture servers, stopped with the test.
struct Fixture {
    vigil::test::TempDir dir;
    std::unique_ptr<vigil::test::Child> child;
    std::string ca_file;
    std::map<std::string, int> ports;
    Fixture() {
        child = std::make_unique<vigil::test::Child>(std::vector<std::string>{
            "/usr/bin/python3", (vigil::test::source_dir() / "plugins/tls_check/tests/tls_fixture.py").string(),
            dir.path().string()});
        REQUIRE(vigil::test::wait_until([&] { return child->out().find('\n') != std::string::npos; },
                                        std::chrono::seconds(30)));
        rapidjson::Document d;
        d.Parse(child->out().c_str());
        INFO(child->out() << child->err());
        REQUIRE(d.IsObject());
        ca_file = d["ca_file"].GetString();
        for (const char* kind : {"good", "expired", "wronghost", "selfsigned", "expiring", "smtp", "smtp-plain", "imap",
                                 "pop3", "ftp", "xmpp", "postgres", "postgres-no", "silent", "flaky"}) {
            REQUIRE(d["ports"].HasMember(kind));
            ports[kind] = d["ports"][kind].GetInt();
        }
    }
    std::string url(const std::string& kind, const char* scheme = "tls") const {
        return fmt::format("{}://127.0.0.1:{}", scheme, ports.at(kind));
    }
};

// One round (--once) of tls_check with `yaml` as its section: every record.
std::vector<vigil::CheckRecord> run_once(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: tls_check\n" + yaml, kOptions, vigil::PluginKind::Source);
    INFO(s->errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    TlsCheck check(kKind, std::move(*c), "tls_check.test", "probe", vigil::Logger("tls_check.test"));
    Capture capture;
    vigil::test::NeverStop never;
    REQUIRE(check.run(capture, never, vigil::RunOptions{true}).ok());
    return capture.all();
}

// The same round: the record of each site.
std::map<std::string, vigil::CheckRecord> check_once(const std::string& yaml) {
    return vigil::test::by_name(run_once(yaml));
}
}  // namespace

TEST_CASE("tls_check: each certificate problem is its own error kind, with what the certificate says",
          "[integration]") {
    Fixture f;
    auto records = check_once(
        fmt::format("timeout: 5s\nca_file: {}\nserver_name: localhost\nsites:\n"
                    "  - {{name: good, url: '{}', min_cert_validity: 14d}}\n"
                    "  - {{name: by-address, url: '{}', server_name: 127.0.0.1}}\n"
                    "  - {{name: expired, url: '{}'}}\n"
                    "  - {{name: wronghost, url: '{}'}}\n"
                    "  - {{name: selfsigned, url: '{}'}}\n"
                    "  - {{name: expiring, url: '{}', min_cert_validity: 14d}}\n"
                    "  - {{name: unverified, url: '{}', verify: false}}\n"
                    "  - {{name: system-store, url: '{}', ca_file: /etc/ssl/certs/ca-certificates.crt}}\n"
                    "  - {{name: silent, url: '{}', timeout: 1s}}\n",
                    f.ca_file, f.url("good"), f.url("good"), f.url("expired"), f.url("wronghost"), f.url("selfsigned"),
                    f.url("expiring"), f.url("selfsigned"), f.url("good"), f.url("silent")));
    REQUIRE(records.size() == 9);
    const auto& good = records.at("good");
    INFO(good.error_detail.value_or(""));
    CHECK(good.ok == true);
    CHECK(good.kind == "tls");
    CHECK(good.tls_version == "TLSv1.3");
    CHECK(good.tls_cipher.has_value());
    CHECK(good.tls_issuer == "CN=Vigil test CA");
    CHECK(good.tls_not_after.has_value());
    CHECK(good.tls_ms.has_value());
    CHECK(good.connect_ms.has_value());
    CHECK(good.remote_ip == "127.0.0.1");
    CHECK_FALSE(good.ocsp_status);  // nothing stapled
    CHECK_FALSE(good.status_code);
    CHECK(records.at("by-address").ok == true);

    CHECK(records.at("expired").error == "certificate");
    CHECK(records.at("expired").error_detail == "certificate has expired (for localhost)");
    CHECK(records.at("expired").tls_not_after.has_value());
    CHECK(records.at("wronghost").error == "certificate");
    CHECK(records.at("wronghost").error_detail == "hostname mismatch (for localhost)");
    CHECK(records.at("selfsigned").error == "certificate");
    CHECK(records.at("selfsigned").error_detail == "self-signed certificate (for localhost)");
    CHECK(records.at("expiring").error == "expiring");
    CHECK(records.at("expiring").error_detail->find("less than min_cert_validity 14d") != std::string::npos);
    CHECK(records.at("unverified").ok == true);  // recorded, not judged
    CHECK(records.at("system-store").error_detail == "unable to get local issuer certificate (for localhost)");
    CHECK(records.at("silent").error == "timeout");
    CHECK(records.at("silent").error_detail == "the TLS handshake took longer than 1s");
}

TEST_CASE("tls_check: STARTTLS in SMTP, IMAP, POP3, FTP, XMPP and PostgreSQL", "[integration]") {
    Fixture f;
    auto records = check_once(
        fmt::format("timeout: 5s\nca_file: {}\nserver_name: localhost\nsites:\n"
                    "  - {{name: smtp, url: '{}', starttls: smtp}}\n"
                    "  - {{name: imap, url: '{}', starttls: imap}}\n"
                    "  - {{name: pop3, url: '{}', starttls: pop3}}\n"
                    "  - {{name: ftp, url: '{}', starttls: ftp}}\n"
                    "  - {{name: xmpp, url: '{}', starttls: xmpp}}\n"
                    "  - {{name: postgres, url: '{}', starttls: postgres}}\n"
                    "  - {{name: no-starttls, url: '{}', starttls: smtp}}\n"
                    "  - {{name: postgres-no, url: '{}', starttls: postgres}}\n"
                    "  - {{name: not-smtp, url: '{}', starttls: smtp, timeout: 1s}}\n",
                    f.ca_file, f.url("smtp", "starttls"), f.url("imap", "starttls"), f.url("pop3", "starttls"),
                    f.url("ftp", "starttls"), f.url("xmpp", "starttls"), f.url("postgres", "starttls"),
                    f.url("smtp-plain", "starttls"), f.url("postgres-no", "starttls"), f.url("silent", "starttls")));
    REQUIRE(records.size() == 9);
    for (const char* ok : {"smtp", "imap", "pop3", "ftp", "xmpp", "postgres"}) {
        INFO(ok << ": " << records.at(ok).error_detail.value_or(""));
        CHECK(records.at(ok).ok == true);
        CHECK(records.at(ok).tls_issuer == "CN=Vigil test CA");
    }
    CHECK(records.at("no-starttls").error == "starttls");
    CHECK(records.at("no-starttls").error_detail ==
          "the server does not offer STARTTLS (not among its EHLO extensions)");
    CHECK(records.at("postgres-no").error == "starttls");
    CHECK(records.at("postgres-no").error_detail == "the server does not do TLS (it answered N to SSLRequest)");
    CHECK(records.at("not-smtp").error == "timeout");
    CHECK(records.at("not-smtp").error_detail == "the STARTTLS dialogue took longer than 1s");
}

TEST_CASE("tls_check: a failed attempt is retried; only the last one is recorded, with the attempts it took",
          "[integration]") {
    Fixture f;
    auto all =
        run_once(fmt::format("timeout: 5s\nca_file: {}\nserver_name: localhost\nretry_delay: 100ms\nsites:\n"
                             "  - {{name: flaky, url: '{}', retries: 1}}\n"
                             "  - {{name: expired, url: '{}', retries: 2}}\n"
                             "  - {{name: good, url: '{}', retries: 2}}\n",
                             f.ca_file, f.url("flaky"), f.url("expired"), f.url("good")));
    REQUIRE(all.size() == 3);  // one record per check, whatever its attempts
    auto records = vigil::test::by_name(all);
    INFO(records.at("flaky").error_detail.value_or(""));
    CHECK(records.at("flaky").ok == true);  // closed before the handshake, then served
    CHECK(records.at("flaky").attempts == 2);
    CHECK(records.at("flaky").tls_version == "TLSv1.3");
    CHECK(records.at("expired").error == "certificate");
    CHECK(records.at("expired").attempts == 3);
    CHECK(records.at("good").attempts == 1);
}
