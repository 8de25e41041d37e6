// SPDX-License-Identifier: Apache-2.0
// dns_check against a real DNS server (Debian's nsd with the fixture zone) and UDP responders of
// our own: every record type, NXDOMAIN, SERVFAIL, REFUSED, a truncated answer asked again over
// TCP, silence, garbage and a closed port; each failure its own error kind and a detail that says why.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "capture.hpp"
#include "dns_check.hpp"
#include "dns_fixture.hpp"
#include "plugin_config.hpp"

using namespace std::chrono_literals;
using vigil::test::Capture;
using vigil::test::Nsd;
using vigil::test::UdpResponder;
using namespace vigil::plugins::dns_check;

namespace {
// One round (--once) of dns_check with `yaml` as its section: every record.
std::vector<vigil::CheckRecord> run_once(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: dns_check\n" + yaml, kOptions, vigil::PluginKind::Source);
    INFO(s->errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    DnsCheck check(kKind, std::move(*c), "dns_check.test", "probe", vigil::Logger("dns_check.test"));
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

TEST_CASE("dns_check: every record type, read from a real server's answers", "[integration]") {
    Nsd nsd;
    auto at = fmt::format("dns://127.0.0.1:{}", nsd.port());
    auto records = check_once(fmt::format(
        "timeout: 2s\ngroup: infra\nsites:\n"
        "  - {{name: a, url: '{0}/www.vigil.test', answers: [127.0.0.2, 127.0.0.1]}}\n"
        "  - {{name: aaaa, url: '{0}/www.vigil.test?type=AAAA', answers: ['::1']}}\n"
        "  - {{name: chain, url: '{0}/alias.vigil.test', expect: '^127\\.0\\.0\\.1$'}}\n"
        "  - {{name: cname, url: '{0}/alias.vigil.test?type=CNAME', answers: [www.vigil.test.]}}\n"
        "  - {{name: mx, url: '{0}/vigil.test?type=mx', answers: ['10 mail.vigil.test.', '20 backup.vigil.test.']}}\n"
        "  - {{name: ns, url: '{0}/vigil.test?type=NS', answers: [ns1.vigil.test.]}}\n"
        "  - {{name: txt, url: '{0}/vigil.test?type=TXT', answers: ['\"v=spf1 -all\"']}}\n"
        "  - {{name: soa, url: '{0}/vigil.test?type=SOA', expect: ' 2026120701 '}}\n"
        "  - {{name: caa, url: '{0}/vigil.test?type=CAA', expect: 'letsencrypt'}}\n"
        "  - {{name: srv, url: '{0}/_http._tcp.vigil.test?type=SRV', answers: ['10 5 80 www.vigil.test.']}}\n"
        "  - {{name: ptr, url: '{0}/ptr.vigil.test?type=PTR', answers: [www.vigil.test.]}}\n"
        "  - {{name: big, url: '{0}/big.vigil.test?type=TXT', expect: 'record 20 of'}}\n"
        "  - {{name: tcp, url: '{0}/www.vigil.test', transport: tcp, answers: [127.0.0.1, 127.0.0.2]}}\n",
        at));
    REQUIRE(records.size() == 13);
    for (const auto& [name, r] : records) {
        INFO(name << ": " << r.error_detail.value_or(""));
        CHECK(r.ok == true);
        CHECK(r.kind == "dns");
        CHECK(r.rcode == "NOERROR");
        CHECK(r.remote_ip == "127.0.0.1");
        CHECK_FALSE(r.status_code);
    }
    const auto& a = records.at("a");
    CHECK(a.answers == "127.0.0.1\n127.0.0.2");  // sorted, as a set
    CHECK(a.group == "infra");
    CHECK(a.location == "probe");
    CHECK(a.check_id.size() == 36);
    CHECK(a.response_time > 0);
    CHECK_FALSE(a.regex_check);                                    // nothing expected
    CHECK(records.at("chain").answers == "127.0.0.1\n127.0.0.2");  // the CNAME itself is not an A answer
    CHECK(records.at("chain").regex_check == true);
    CHECK(records.at("mx").answers == "10 mail.vigil.test.\n20 backup.vigil.test.");
    // 20 TXT records do not fit 512 bytes: the UDP answer is truncated and c-ares asks over TCP.
    CHECK(std::count(records.at("big").answers->begin(), records.at("big").answers->end(), '\n') == 19);
}

TEST_CASE("dns_check: each way an answer fails is its own error kind", "[integration]") {
    Nsd nsd;
    UdpResponder silent([](const std::string&) { return std::string(); });
    UdpResponder garbage([](const std::string& q) { return q.substr(0, 2) + "\x81\x80not a dns message"; });
    // nsd's own answer, 400 ms late: within a 1 s timeout a slow answer, past a 200 ms one none.
    auto late = [&](const std::string& q) {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        return vigil::test::ask_udp(nsd.port(), q);
    };
    UdpResponder slow(late), too_slow(late);
    auto at = fmt::format("dns://127.0.0.1:{}", nsd.port());
    auto records = check_once(
        fmt::format("timeout: 1s\nsites:\n"
                    "  - {{name: nx, url: '{0}/nope.vigil.test'}}\n"
                    "  - {{name: nx-expected, url: '{0}/nope.vigil.test', rcode: NXDOMAIN}}\n"
                    "  - {{name: servfail, url: '{0}/www.broken.test'}}\n"
                    "  - {{name: refused, url: '{0}/www.example.com'}}\n"
                    "  - {{name: wrong, url: '{0}/www.vigil.test', answers: [10.0.0.1]}}\n"
                    "  - {{name: empty, url: '{0}/empty.vigil.test'}}\n"
                    "  - {{name: empty-ok, url: '{0}/empty.vigil.test', allow_empty: true}}\n"
                    "  - {{name: nomatch, url: '{0}/www.vigil.test', expect: '^10\\.'}}\n"
                    "  - {{name: silent, url: 'dns://127.0.0.1:{1}/www.vigil.test'}}\n"
                    "  - {{name: garbage, url: 'dns://127.0.0.1:{2}/www.vigil.test'}}\n"
                    "  - {{name: closed, url: 'dns://127.0.0.1:{3}/www.vigil.test'}}\n"
                    "  - {{name: slow, url: 'dns://127.0.0.1:{4}/www.vigil.test'}}\n"
                    "  - {{name: too-slow, url: 'dns://127.0.0.1:{5}/www.vigil.test', timeout: 200ms}}\n",
                    at, silent.port(), garbage.port(), vigil::test::closed_udp_port(), slow.port(), too_slow.port()));
    REQUIRE(records.size() == 13);

    CHECK(records.at("nx").error == "rcode");
    CHECK(records.at("nx").rcode == "NXDOMAIN");
    CHECK(records.at("nx").error_detail == "the answer's rcode is NXDOMAIN, expected NOERROR");
    CHECK(records.at("nx-expected").ok == true);
    CHECK(records.at("servfail").error == "rcode");
    CHECK(records.at("servfail").rcode == "SERVFAIL");
    CHECK(records.at("refused").rcode == "REFUSED");

    const auto& wrong = records.at("wrong");
    CHECK(wrong.error == "answer");
    CHECK(wrong.error_detail == "www.vigil.test A answers 127.0.0.1, 127.0.0.2; expected 10.0.0.1");
    CHECK(records.at("empty").error == "answer");
    CHECK(records.at("empty").error_detail ==
          "no A record for empty.vigil.test (NOERROR with an empty answer; allow_empty: true accepts that)");
    CHECK(records.at("empty-ok").ok == true);
    CHECK(records.at("empty-ok").answers == "");
    CHECK(records.at("nomatch").error == "expect");
    CHECK(records.at("nomatch").regex_check == false);

    const auto& quiet = records.at("silent");
    CHECK(quiet.error == "timeout");
    CHECK(quiet.error_detail == "no answer within 1s");
    CHECK(quiet.response_time >= 1000);
    CHECK_FALSE(quiet.rcode);

    // c-ares drops an answer that does not repeat the question (it may be spoofed): no answer came.
    CHECK(records.at("garbage").error == "timeout");
    CHECK(records.at("closed").error == "connect");

    const auto& slowly = records.at("slow");
    CHECK(slowly.ok == true);
    CHECK(slowly.response_time >= 400);
    CHECK(slowly.answers == "127.0.0.1\n127.0.0.2");
    CHECK(records.at("too-slow").error == "timeout");
    CHECK(records.at("too-slow").error_detail == "no answer within 200ms");
}

TEST_CASE("dns_check: a thousand queries in flight from one thread and one socket", "[integration]") {
    Nsd nsd;
    std::string sites = fmt::format("max_concurrency: 300\nanswers: ['::1']\nsites:\n");
    for (int i = 0; i < 1000; ++i) {
        sites += fmt::format("  - {{name: s{}, url: 'dns://127.0.0.1:{}/www.vigil.test?type=AAAA'}}\n", i, nsd.port());
    }
    auto records = check_once(sites);
    REQUIRE(records.size() == 1000);
    std::size_t ok = 0;
    for (const auto& [name, r] : records) {
        ok += r.ok == true ? 1 : 0;
    }
    CHECK(ok == 1000);
}

TEST_CASE("dns_check: a lost answer is asked again; only the last attempt is recorded, with the attempts it took",
          "[integration]") {
    Nsd nsd;
    // Drops the first query (a lost datagram), relays the next ones to nsd. The retry goes while
    // c-ares still holds the lost query (retry_delay is shorter than c-ares' own limit): its answer
    // must reach the retry, which it did not while every query went out with id 0.
    std::atomic<int> queries{0};
    UdpResponder lossy(
        [&](const std::string& q) { return queries++ == 0 ? std::string() : vigil::test::ask_udp(nsd.port(), q); });
    UdpResponder silent([](const std::string&) { return std::string(); });
    auto all =
        run_once(fmt::format("timeout: 300ms\nretry_delay: 100ms\nsites:\n"
                             "  - {{name: lossy, url: 'dns://127.0.0.1:{}/www.vigil.test', retries: 1}}\n"
                             "  - {{name: silent, url: 'dns://127.0.0.1:{}/www.vigil.test', retries: 2}}\n"
                             "  - {{name: nx, url: 'dns://127.0.0.1:{}/nope.vigil.test', retries: 1}}\n",
                             lossy.port(), silent.port(), nsd.port()));
    REQUIRE(all.size() == 3);  // one record per check, whatever its attempts
    auto records = vigil::test::by_name(all);
    INFO(records.at("lossy").error_detail.value_or(""));
    CHECK(records.at("lossy").ok == true);
    CHECK(records.at("lossy").attempts == 2);
    CHECK(records.at("lossy").answers == "127.0.0.1\n127.0.0.2");
    CHECK(queries.load() == 2);
    CHECK(records.at("silent").error == "timeout");
    CHECK(records.at("silent").attempts == 3);
    // A wrong answer is retried as well: the record is the last attempt's.
    CHECK(records.at("nx").error == "rcode");
    CHECK(records.at("nx").attempts == 2);
}
