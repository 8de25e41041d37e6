// SPDX-License-Identifier: Apache-2.0
// tcp_check against real TCP servers on 127.0.0.1: a greeting, an answer to what was sent,
// silence, a reset, a closed port; each failure its own error kind and a detail that says why.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include <fmt/core.h>

#include "capture.hpp"
#include "plugin_config.hpp"
#include "tcp_check.hpp"
#include "tcp_fixture.hpp"

using namespace std::chrono_literals;
using vigil::test::Capture;
using vigil::test::TcpFixture;
using namespace vigil::plugins::tcp_check;

namespace {
std::string url(std::uint16_t port) { return fmt::format("tcp://127.0.0.1:{}", port); }

// One round (--once) of tcp_check with `yaml` as its section: every record.
std::vector<vigil::CheckRecord> run_once(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: tcp_check\n" + yaml, kOptions, vigil::PluginKind::Source);
    INFO(s->errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    TcpCheck check(kKind, std::move(*c), "tcp_check.test", "probe", vigil::Logger("tcp_check.test"));
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

TEST_CASE("tcp_check: each way a port answers is its own result", "[integration]") {
    TcpFixture smtp(TcpFixture::greet_and_close("220 mail.test ESMTP ready\r\n"));
    TcpFixture redis(TcpFixture::answer("PING\r\n", "+PONG\r\n"));
    TcpFixture silent(TcpFixture::silent());
    TcpFixture wrong(TcpFixture::greet_and_close("554 go away\r\n"));
    TcpFixture resets(TcpFixture::reset());
    auto closed = vigil::test::closed_port();
    auto records =
        check_once(fmt::format("timeout: 1s\ngroup: infra\nsites:\n"
                               "  - {{name: open, url: '{}'}}\n"
                               "  - {{name: smtp, url: '{}', expect: '^220 '}}\n"
                               "  - {{name: redis, url: '{}', send: \"PING\\r\\n\", expect: '\\+PONG'}}\n"
                               "  - {{name: silent, url: '{}', expect: '^220 '}}\n"
                               "  - {{name: wrong, url: '{}', expect: '^220 '}}\n"
                               "  - {{name: resets, url: '{}', expect: '^220 '}}\n"
                               "  - {{name: closed, url: '{}'}}\n"
                               "  - {{name: named, url: 'tcp://localhost:{}', ip_family: ipv4, expect: '^220 '}}\n",
                               url(smtp.port()), url(smtp.port()), url(redis.port()), url(silent.port()),
                               url(wrong.port()), url(resets.port()), url(closed), smtp.port()));
    REQUIRE(records.size() == 8);

    const auto& open = records.at("open");
    CHECK(open.ok == true);
    CHECK(open.kind == "tcp");
    CHECK(open.url == url(smtp.port()));
    CHECK_FALSE(open.status_code);
    CHECK_FALSE(open.regex_check);  // nothing expected
    CHECK(open.connect_ms.has_value());
    CHECK_FALSE(open.dns_ms);  // an address: nothing resolved
    CHECK(open.remote_ip == "127.0.0.1");
    CHECK(open.group == "infra");
    CHECK(open.location == "probe");
    CHECK(open.check_id.size() == 36);

    const auto& ok = records.at("smtp");
    CHECK(ok.ok == true);
    CHECK(ok.regex == "^220 ");
    CHECK(ok.regex_check == true);
    CHECK(ok.body_bytes > 0);

    CHECK(records.at("redis").ok == true);
    CHECK(records.at("redis").regex_check == true);

    const auto& quiet = records.at("silent");
    CHECK(quiet.ok == false);
    CHECK(quiet.error == "timeout");
    CHECK(quiet.error_detail == "waiting for the expected answer took longer than 1s");
    CHECK(quiet.response_time >= 1000);

    const auto& refused = records.at("wrong");
    CHECK(refused.error == "expect");
    CHECK(refused.regex_check == false);
    CHECK(refused.error_detail ==
          "the server closed the connection after 13 bytes with no match for ^220 : \"554 go away\\r\\n\"");

    CHECK(records.at("resets").ok == false);
    CHECK((records.at("resets").error == "connect" || records.at("resets").error == "expect"));

    CHECK(records.at("closed").error == "connect");
    CHECK(records.at("closed").error_detail == "Connection refused");

    const auto& named = records.at("named");
    CHECK(named.ok == true);
    CHECK(named.dns_ms.has_value());
    CHECK(named.remote_ip == "127.0.0.1");
}

TEST_CASE("tcp_check: max_read bounds what a streaming server can make a check read", "[integration]") {
    TcpFixture stream(TcpFixture::greet_and_close(std::string(100000, 'x')));
    auto records = check_once(
        fmt::format("sites:\n  - {{name: s, url: '{}', expect: '^220', max_read: 1KiB}}\n", url(stream.port())));
    const auto& r = records.at("s");
    CHECK(r.error == "expect");
    CHECK(r.body_bytes == 1024);
    CHECK(r.error_detail->rfind("no match for ^220 in the first 1024 bytes read: \"xxxx", 0) == 0);
}

TEST_CASE("tcp_check: a thousand ports are checked at once from one thread", "[integration]") {
    TcpFixture smtp(TcpFixture::greet_and_close("220 ready\r\n"));
    std::string sites = "max_concurrency: 300\nexpect: '^220'\nsites:\n";
    for (int i = 0; i < 1000; ++i) {
        sites += fmt::format("  - {{name: s{}, url: '{}'}}\n", i, url(smtp.port()));
    }
    auto records = check_once(sites);
    REQUIRE(records.size() == 1000);
    std::size_t ok = 0;
    for (const auto& [name, r] : records) {
        ok += r.ok == true ? 1 : 0;
    }
    CHECK(ok == 1000);
    CHECK(smtp.accepted() == 1000);
}

TEST_CASE("tcp_check: sites are checked on their interval until stopped, and a reload keeps going", "[integration]") {
    TcpFixture smtp(TcpFixture::greet_and_close("220 ready\r\n"));
    auto yaml = [&](const std::string& extra) {
        return fmt::format("plugin: tcp_check\ninterval: 200ms\nsites:\n  - {{name: a, url: '{}'}}\n{}",
                           url(smtp.port()), extra);
    };
    auto s = vigil::test::check_section(yaml(""), kOptions, vigil::PluginKind::Source);
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    TcpCheck check(kKind, std::move(*c), "tcp_check.sched", "probe", vigil::Logger("tcp_check.sched"));
    Capture capture;
    vigil::test::StopAfter stop(1500ms);
    // Parsed here: Catch's assertions belong on the test's thread.
    auto next = vigil::test::check_section(yaml(fmt::format("  - {{name: b, url: '{}'}}\n", url(smtp.port()))),
                                           kOptions, vigil::PluginKind::Source);
    REQUIRE(next->errors().empty());
    std::atomic<bool> reloaded{false};
    std::thread reloader([&] {
        std::this_thread::sleep_for(600ms);
        reloaded = check.reload(next->node, next->diags);
    });
    REQUIRE(check.run(capture, stop, vigil::RunOptions{false}).ok());
    reloader.join();
    CHECK(reloaded);
    std::map<std::string, int> per_site;
    for (const auto& r : capture.all()) {
        ++per_site[r.name];
        CHECK(r.ok == true);
        CHECK(*r.lag_ms < 200);  // started within its slot
    }
    CHECK(per_site["a"] >= 6);  // 1.5 s at 200 ms
    CHECK(per_site["a"] <= 8);
    CHECK(per_site["b"] >= 3);  // from the reload on
}

TEST_CASE("tcp_check: a failed attempt is retried; only the last one is recorded, with the attempts it took",
          "[integration]") {
    // Busy at the first connection, ready at the next: a server restarting.
    std::atomic<int> connections{0};
    TcpFixture flaky([&](int fd, TcpFixture& f) {
        auto greet = TcpFixture::greet_and_close(connections++ == 0 ? "421 busy\r\n" : "220 ready\r\n");
        greet(fd, f);
    });
    TcpFixture ready(TcpFixture::greet_and_close("220 ready\r\n"));
    auto closed = vigil::test::closed_port();
    auto started = std::chrono::steady_clock::now();
    auto wall = std::chrono::system_clock::now();
    auto all =
        run_once(fmt::format("timeout: 1s\nexpect: '^220 '\nretry_delay: 300ms\nsites:\n"
                             "  - {{name: flaky, url: '{}', retries: 2}}\n"
                             "  - {{name: down, url: '{}', retries: 2}}\n"
                             "  - {{name: once, url: '{}'}}\n",
                             url(flaky.port()), url(closed), url(ready.port())));
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(all.size() == 3);  // one record per check, whatever its attempts
    auto records = vigil::test::by_name(all);
    CHECK(records.at("flaky").ok == true);
    CHECK(records.at("flaky").attempts == 2);
    CHECK(flaky.accepted() == 2);
    CHECK(records.at("flaky").timestamp < wall + 250ms);  // the first attempt's start, not the retry's
    CHECK(records.at("down").ok == false);
    CHECK(records.at("down").error == "connect");
    CHECK(records.at("down").attempts == 3);
    CHECK(records.at("once").attempts == 1);
    CHECK(took >= 600ms);  // two retry delays before the last attempt of `down`
}
