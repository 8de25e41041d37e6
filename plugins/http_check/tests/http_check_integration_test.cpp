// SPDX-License-Identifier: Apache-2.0
// http_check against real HTTP servers on 127.0.0.1 (scripts/fixture-sites, started here).
#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <rapidjson/document.h>

#include <curl/curl.h>

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "http_check.hpp"
#include "vigil/metrics.hpp"
#include "plugin_config.hpp"
#include "run_check.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using namespace vigil::plugins::http_check;

using vigil::test::Capture;
using vigil::test::check_once;
using vigil::test::fixture;
using vigil::test::NeverStop;
using vigil::test::site;
using vigil::test::StopAfter;

namespace {
long rss_kib() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return 0;
}
}  // namespace

TEST_CASE("http_check: statuses, regexes, delays and transport errors against real servers", "[integration]") {
    const auto& f = fixture();
    auto r = check_once(
        "plugin: http_check\ntimeout: 2s\nsites:\n" + site("match", f.url("/ok"), "regex: 'Vigil fixture'") +
        site("nomatch", f.url("/ok"), "regex: 'Closed for good'") + site("notfound", f.url("/status/404")) +
        site("broken", f.url("/status/500")) + site("slow", f.url("/delay/300")) +
        site("timeout", f.url("/delay/3000"), "timeout: 500ms") +
        site("refused", "http://127.0.0.1:" + std::to_string(f.refused) + "/") +
        site("dns", "http://vigil-test.invalid/") + site("chain", f.url("/redirect/3")) +
        site("loop", f.url("/loop"), "max_redirects: 5") + site("chunked", f.url("/chunked"), "regex: 'chunked-ok'") +
        site("gzip", f.url("/gzip"), "regex: 'gzip-ok'") + site("trickle", f.url("/trickle"), "timeout: 700ms") +
        site("reset", f.url("/reset")) + site("latin1", f.url("/latin1"), "regex: 'caf'") +
        site("head", f.url("/ok"), "method: HEAD") +
        site("post", f.url("/echo"),
             "method: POST, body: 'hello', headers: {X-Probe: yes}, regex: '\"X-Probe\": \"yes\"'"));
    REQUIRE(r.size() == 17);

    CHECK(r["match"].ok == true);
    CHECK(r["match"].status_code == 200);
    CHECK(r["match"].regex_check == true);
    CHECK(r["match"].http_version == "1.1");
    CHECK(r["match"].remote_ip == "127.0.0.1");
    CHECK(r["match"].body_bytes > 0);
    CHECK(r["match"].check_id.size() == 36);
    CHECK(r["match"].agent == "probe");
    CHECK(r["match"].dns_ms.has_value());
    CHECK(r["match"].connect_ms.has_value());
    CHECK(r["match"].ttfb_ms.has_value());

    CHECK(r["nomatch"].error == "regex");
    CHECK(r["nomatch"].regex_check == false);
    CHECK(r["notfound"].error == "http");
    CHECK(r["notfound"].status_code == 404);
    CHECK(r["broken"].error == "http");
    CHECK(r["broken"].status_code == 500);

    CHECK(r["slow"].ok == true);
    CHECK(r["slow"].response_time >= 300);
    CHECK(r["slow"].response_time < 400);

    CHECK(r["timeout"].error == "timeout");
    CHECK(r["timeout"].response_time >= 500);
    CHECK(r["timeout"].response_time < 1000);
    CHECK_FALSE(r["timeout"].status_code);
    CHECK(r["trickle"].error == "timeout");
    CHECK(r["trickle"].status_code == 200);  // headers came; the body did not in time

    CHECK(r["refused"].error == "connect");
    CHECK(r["dns"].error == "dns");
    CHECK(r["dns"].error_detail == "Could not resolve host: vigil-test.invalid");

    CHECK(r["chain"].ok == true);
    CHECK(r["chain"].redirects == 4);
    CHECK(r["chain"].status_code == 200);
    CHECK(r["loop"].error == "too_many_redirects");

    CHECK(r["chunked"].ok == true);
    CHECK(r["gzip"].ok == true);  // decoded before the regex
    CHECK(r["reset"].error == "reset");
    CHECK(r["latin1"].ok == true);
    CHECK(vigil::decode_json(vigil::encode_json(r["latin1"])));  // the JSON stays valid
    CHECK(r["head"].ok == true);
    CHECK(r["head"].body_bytes == 0);
    CHECK(r["post"].ok == true);
}

using vigil::test::escape;
using vigil::test::received;

TEST_CASE("http_check: redirects carry the site's headers and body to its own origin only, as browsers do",
          "[integration]") {
    const auto& f = fixture();
    // Two origins of one fixture: 127.0.0.1:<port> (the site's) and localhost:<port> (another).
    auto other = [&](const std::string& name) {
        return "http://localhost:" + std::to_string(f.http) + "/record/" + name;
    };
    auto own = [&](const std::string& name) { return f.url("/record/" + name); };
    auto to = [&](int code, const std::string& target) {
        return f.url("/to/" + std::to_string(code) + "?url=" + escape(target));
    };
    std::string secret =
        "method: POST, body: 'the-body', headers: {X-Api-Key: k1, Authorization: 'Bearer t1', Cookie: c=1}";
    auto r = check_once(
        "plugin: http_check\ntimeout: 3s\nca_file: " + f.ca_file + "\nsites:\n" +
        site("cross-307", to(307, other("cross-307")), secret) + site("same-307", to(307, own("same-307")), secret) +
        site("cross-302", to(302, other("cross-302")), secret) +
        site("put-303", to(303, own("put-303")), "method: PUT, body: 'b'") +
        site("delete-302", to(302, own("delete-302")), "method: DELETE") +
        site("delete-308", to(308, other("delete-308")), "method: DELETE, headers: {X-Api-Key: k2}") +
        site("down", f.tls("/to/302?url=" + escape(own("down"))), "") +
        site("down-allowed", f.tls("/to/302?url=" + escape(own("down-allowed"))), "allow_downgrade: true") +
        site("not-http", to(302, "ftp://127.0.0.1/x"), "") +
        site("no-follow", to(302, own("no-follow")), "follow_redirects: false"));
    REQUIRE(r.size() == 10);
    for (const char* name :
         {"cross-307", "same-307", "cross-302", "put-303", "delete-302", "delete-308", "down-allowed"}) {
        INFO(name << ": " << r[name].error.value_or("") << " " << r[name].error_detail.value_or(""));
        CHECK(r[name].ok == true);
        CHECK(r[name].redirects == 1);
        CHECK(r[name].status_code == 200);
        REQUIRE(received(name).size() == 1);
    }
    // 307 keeps the method; another origin gets neither the body nor any of the site's headers.
    auto cross = received("cross-307")[0];
    CHECK(cross.method == "POST");
    CHECK(cross.body.empty());
    CHECK(cross.headers.count("x-api-key") == 0);
    CHECK(cross.headers.count("authorization") == 0);
    CHECK(cross.headers.count("cookie") == 0);
    CHECK(cross.headers.count("user-agent") == 1);
    // The site's own origin gets them all again.
    auto same = received("same-307")[0];
    CHECK(same.method == "POST");
    CHECK(same.body == "the-body");
    CHECK(same.headers["x-api-key"] == "k1");
    CHECK(same.headers["authorization"] == "Bearer t1");
    // 301/302/303 continue as GET without the body; a DELETE is not repeated elsewhere.
    auto c302 = received("cross-302")[0];
    CHECK(c302.method == "GET");
    CHECK(c302.body.empty());
    CHECK(c302.headers.count("x-api-key") == 0);
    CHECK(received("put-303")[0].method == "GET");
    CHECK(received("put-303")[0].body.empty());
    CHECK(received("delete-302")[0].method == "GET");
    // 308 keeps DELETE, but not the header, at the other origin.
    CHECK(received("delete-308")[0].method == "DELETE");
    CHECK(received("delete-308")[0].headers.count("x-api-key") == 0);
    // https to http is refused unless allowed, and nothing reaches the http side.
    CHECK(r["down"].ok == false);
    CHECK(r["down"].error == "redirect");
    CHECK(r["down"].status_code == 302);
    CHECK_THAT(r["down"].error_detail.value_or(""),
               Catch::Contains("from https to http://127.0.0.1:") && Catch::Contains("allow_downgrade"));
    CHECK(received("down").empty());
    CHECK(r["not-http"].error == "redirect");
    CHECK_THAT(r["not-http"].error_detail.value_or(""), Catch::Contains("not http:// or https://"));
    // Not followed: the 302 is the answer, and within the default 200-399.
    CHECK(r["no-follow"].ok == true);
    CHECK(r["no-follow"].status_code == 302);
    CHECK(r["no-follow"].redirects == 0);
    CHECK(received("no-follow").empty());
}

TEST_CASE("http_check: a 50 MiB body is cut at max_body and memory stays flat", "[integration]") {
    const auto& f = fixture();
    long before = rss_kib();
    auto r =
        check_once("plugin: http_check\nmax_body: 1MiB\nsites:\n" + site("huge", f.url("/huge/50"), "regex: 'x{10}'") +
                   site("huge2", f.url("/huge/50"), "regex: 'y'"));
    long grown = rss_kib() - before;
    CHECK(r["huge"].truncated == true);
    CHECK(r["huge"].body_bytes == 1024 * 1024);
    CHECK(r["huge"].ok == true);  // the regex matched within the part read
    CHECK(r["huge2"].error == "regex");
    CHECK(r["huge2"].error_detail->find("body cut at max_body") != std::string::npos);
    CHECK(grown < 20 * 1024);  // two 1 MiB buffers and change, not 100 MiB
}

TEST_CASE("http_check: a site signed by a private CA fails TLS, then passes with the CA in ca_file", "[integration]") {
    const auto& f = fixture();
    auto r = check_once("plugin: http_check\nsites:\n" + site("untrusted", f.tls("/ok")) +
                        site("trusted", f.tls("/ok"), "ca_file: " + f.ca_file) +
                        site("unverified", f.tls("/ok"), "verify_tls: false"));
    CHECK(r["untrusted"].error == "tls");
    CHECK(r["trusted"].ok == true);
    CHECK(r["trusted"].tls_ms.has_value());
    REQUIRE(r["trusted"].tls_not_after.has_value());
    CHECK(*r["trusted"].tls_not_after > r["trusted"].timestamp + std::chrono::hours(24 * 29));
    CHECK(r["unverified"].ok == true);
}

TEST_CASE("http_check: regex_absent, max_response_time and min_cert_validity against real servers", "[integration]") {
    const auto& f = fixture();
    // The fixture's certificate is made at its start for 30 days.
    auto r = check_once("plugin: http_check\nca_file: " + f.ca_file + "\nsites:\n" +
                        site("banned-word", f.url("/ok"), "regex_absent: \"Vigil fixture\"") +
                        site("clean", f.url("/ok"), "regex_absent: maintenance") +
                        site("slow", f.url("/delay/400"), "max_response_time: 150ms") +
                        site("fast-enough", f.url("/ok"), "max_response_time: 2s") +
                        site("cert-short", f.tls("/ok"), "min_cert_validity: 60d") +
                        site("cert-long-enough", f.tls("/ok"), "min_cert_validity: 14d") +
                        site("plain-http", f.url("/ok"), "min_cert_validity: 60d"));
    CHECK(r["banned-word"].error == "regex");
    CHECK(r["banned-word"].error_detail == "found \"Vigil fixture\" (regex_absent) at byte 19");
    CHECK(r["clean"].ok == true);
    CHECK(r["slow"].error == "slow");
    CHECK(r["slow"].status_code == 200);
    CHECK(r["slow"].response_time >= 400);
    CHECK_THAT(r["slow"].error_detail.value_or(""), Catch::Matches("response time 4\\d\\d\\.\\dms is over "
                                                                   "max_response_time 150ms"));
    CHECK(r["fast-enough"].ok == true);
    CHECK(r["cert-short"].error == "cert_expiring");
    CHECK_THAT(r["cert-short"].error_detail.value_or(""),
               Catch::Matches("the certificate expires 20.*Z \\(in 29d23h\\), sooner than "
                              "min_cert_validity 60d"));
    CHECK(r["cert-long-enough"].ok == true);
    CHECK(r["plain-http"].ok == true);  // no certificate to judge
}

TEST_CASE("http_check: SIGHUP starts new sites, stops removed ones, keeps the others' schedule", "[integration]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto pipeline = [&](const std::string& sites) {
        return "pipeline: t\nsource:\n  plugin: http_check\n  interval: 200ms\n  timeout: 150ms\n  sites:\n" + sites +
               "sinks: [{plugin: stdout_sink, path: out.jsonl}]\n";
    };
    auto p = dir.write("p.yaml", pipeline(site("stay", f.url("/ok")) + site("leave", f.url("/ok"))));
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", p.string()});
    auto count = [&](const std::string& name) {
        auto text = vigil::test::read_file(dir / "out.jsonl");
        std::size_t n = 0;
        for (auto pos = text.find("\"name\":\"" + name + "\""); pos != std::string::npos;
             pos = text.find("\"name\":\"" + name + "\"", pos + 1)) {
            ++n;
        }
        return n;
    };
    REQUIRE(vigil::test::wait_until([&] { return count("stay") >= 3 && count("leave") >= 3; }, 20s));
    dir.write("p.yaml", pipeline(site("stay", f.url("/ok")) + site("arrive", f.url("/ok"))));
    agent.signal(SIGHUP);
    REQUIRE(vigil::test::wait_until(
        [&] {
            return agent.err().find("reload: 1 sites added, 1 removed, 0 changed, 1 unchanged") != std::string::npos;
        },
        10s));
    auto left_at_reload = count("leave");
    REQUIRE(vigil::test::wait_until([&] { return count("arrive") >= 5; }, 20s));
    CHECK(count("leave") <= left_at_reload + 1);  // at most one check was already in flight
    agent.signal(SIGTERM);
    REQUIRE(agent.wait(20s) == 0);

    // "stay" kept one grid: every start is a whole number of intervals after the first.
    std::vector<std::int64_t> stay;
    for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
        auto rec = vigil::decode_json(line);
        REQUIRE(rec);
        if (rec.record->name == "stay") {
            auto scheduled = rec.record->timestamp.time_since_epoch().count() -
                             static_cast<std::int64_t>(*rec.record->lag_ms * 1000);
            stay.push_back(scheduled);
        }
    }
    REQUIRE(stay.size() >= 6);
    for (auto t : stay) {
        auto offset = (t - stay[0]) % 200'000;
        CHECK((offset < 2'000 || offset > 198'000));  // within 2 ms of the grid (clock reads differ)
    }
}

TEST_CASE("http_check: a check still running at its next slot skips that slot; never two at once", "[integration]") {
    const auto& f = fixture();
    auto s = vigil::test::check_section(
        "plugin: http_check\ninterval: 100ms\ntimeout: 1s\nsites:\n" + site("slowpoke", f.url("/delay/350")), kOptions,
        vigil::PluginKind::Source);
    REQUIRE_FALSE(s->diags.has_errors());  // the timeout-over-interval warning is expected
    auto config = parse_config(s->node, s->diags);
    REQUIRE(config);
    auto& overruns = vigil::counter("vigil_http_check_overruns_total", {{"instance", "overrun-test"}});
    auto before = overruns.value();
    HttpCheck check(std::move(*config), "overrun-test", "probe", vigil::Logger("overrun-test"));
    Capture capture;
    StopAfter stop(1500ms);
    REQUIRE(check.run(capture, stop, vigil::RunOptions{false}).ok());
    auto records = capture.all();
    REQUIRE(records.size() >= 3);
    for (std::size_t i = 1; i < records.size(); ++i) {
        // Each check starts only after the previous one (350 ms) finished, on a 100 ms slot.
        auto gap = records[i].timestamp - records[i - 1].timestamp;
        CHECK(gap >= 350ms);
        CHECK(gap < 600ms);
        CHECK(records[i].lag_ms < 50);  // started on a slot, not late
    }
    CHECK(overruns.value() - before >= 2 * (records.size() - 1));  // ~3 slots skipped per check
}

TEST_CASE(
    "http_check: a running agent serves checks by result and the check duration and lag histograms on "
    "/metrics",
    "[integration]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: m\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: http_check\n"
                       "  interval: 500ms\n  batch_delay: 50ms\n  sites:\n"
                       "    - {name: up, url: \"" +
                           f.url("/ok") +
                           "\"}\n"
                           "    - {name: down, url: \"" +
                           f.url("/status/503") +
                           "\"}\n"
                           "sinks:\n  - plugin: stdout_sink\n    path: " +
                           (dir / "out.jsonl").string() + "\n");
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", p.string()});
    const std::string marker = "serving /metrics and /healthz on ";
    std::string base;
    REQUIRE(vigil::test::wait_until([&] {
        auto err = agent.err();
        auto at = err.find(marker);
        if (at != std::string::npos) {
            base = "http://" + err.substr(at + marker.size(), err.find('\n', at) - at - marker.size());
        }
        return !base.empty();
    }));
    std::string metrics;
    bool seen = vigil::test::wait_until(
        [&] {
            metrics = vigil::test::run({"/usr/bin/curl", "-sS", base + "/metrics"}).out;
            return metrics.find("vigil_http_check_checks_total{instance=\"http_check.0\",result=\"http\"} 2") !=
                   std::string::npos;
        },
        20s);
    agent.signal(SIGTERM);
    CHECK(agent.wait(20s) == 0);
    INFO(metrics);
    REQUIRE(seen);
    CHECK(metrics.find("vigil_http_check_checks_total{instance=\"http_check.0\",result=\"ok\"} ") != std::string::npos);
    CHECK(metrics.find("# TYPE vigil_http_check_duration_seconds histogram\n") != std::string::npos);
    CHECK(metrics.find("vigil_http_check_duration_seconds_bucket{instance=\"http_check.0\",le=\"+Inf\"} ") !=
          std::string::npos);
    CHECK(metrics.find("# TYPE vigil_http_check_lag_seconds histogram\n") != std::string::npos);
    CHECK(metrics.find("vigil_http_check_lag_seconds_count{instance=\"http_check.0\"} ") != std::string::npos);
}

namespace {
// A pipeline that stops taking batches until released: what a sink outage looks like to the
// source of a memory-buffered pipeline.
class Stuck final : public vigil::Emitter {
  public:
    bool emit(vigil::Batch, vigil::AckFn ack) override {
        std::unique_lock lock(mutex_);
        ++waiting_;
        cv_.wait(lock, [&] { return released_; });
        --waiting_;
        ack(vigil::AckStatus::Delivered);
        return true;
    }
    bool stuck() const {
        std::lock_guard lock(mutex_);
        return waiting_ > 0 && !released_;
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        cv_.notify_all();
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    int waiting_ = 0;
    bool released_ = false;
};

class StopFlag final : public vigil::StopToken {
  public:
    bool stop_requested() const override { return stop_.load(); }
    bool wait_for(vigil::Duration d) const override {
        std::this_thread::sleep_for(std::min<vigil::Duration>(d, 10ms));
        return stop_.load();
    }
    void request() { stop_ = true; }

  private:
    std::atomic<bool> stop_{false};
};
}  // namespace

TEST_CASE("http_check: while the pipeline takes nothing, the slots that pass are counted as they pass",
          "[integration]") {
    const auto& f = fixture();
    auto s = vigil::test::check_section("plugin: http_check\ninterval: 100ms\nbatch_delay: 20ms\nsites:\n" +
                                            site("a", f.url("/ok?a")) + site("b", f.url("/ok?b")),
                                        kOptions, vigil::PluginKind::Source);
    REQUIRE_FALSE(s->diags.has_errors());
    auto config = parse_config(s->node, s->diags);
    REQUIRE(config);
    auto& skipped = vigil::counter("vigil_http_check_skipped_slots_total", {{"instance", "stuck-test"}});
    HttpCheck check(std::move(*config), "stuck-test", "probe", vigil::Logger("stuck-test"));
    Stuck out;
    StopFlag stop;
    std::thread runner([&] { check.run(out, stop, vigil::RunOptions{false}); });
    REQUIRE(vigil::test::wait_until([&] { return out.stuck(); }));
    // Two sites every 100 ms: 20 slots pass in about a second; they show on /metrics meanwhile.
    bool counted = vigil::test::wait_until([&] { return skipped.value() >= 20; }, 10s);
    bool still_stuck = out.stuck();
    out.release();
    stop.request();
    runner.join();
    CHECK(counted);
    CHECK(still_stuck);
}

TEST_CASE("http_check: failed checks are summarised at most once a minute, each one only at debug level",
          "[integration]") {
    const auto& f = fixture();
    vigil::test::TempDir dir;
    auto refused = "http://127.0.0.1:" + std::to_string(f.refused) + "/";
    std::string sites;
    for (int i = 0; i < 100; ++i) {
        sites += "    - {name: r" + std::to_string(i) + ", url: \"" + refused + "?token=s3cr3t\"}\n";
    }
    auto run_for = [&](const std::string& level, std::size_t records) {
        auto out = dir / ("out-" + level + ".jsonl");
        auto p = dir.write("p-" + level + ".yaml", "pipeline: quiet\nlog: {level: " + level +
                                                       "}\nsource:\n"
                                                       "  plugin: http_check\n  interval: 200ms\n  sites:\n" +
                                                       sites + "    - {name: up, url: \"" + f.url("/ok") +
                                                       "\"}\n"
                                                       "sinks:\n  - plugin: stdout_sink\n    path: " +
                                                       out.string() + "\n");
        vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", p.string()});
        REQUIRE(vigil::test::wait_until([&] { return vigil::test::read_lines(out).size() >= records; }, 30s));
        agent.signal(SIGTERM);
        CHECK(agent.wait(20s) == 0);
        return agent.err();
    };
    auto count = [](const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
            ++n;
        return n;
    };
    // 1,000 failed checks or more: one warning when they began, one summary at stop.
    auto err = run_for("info", 1100);
    INFO(err);
    CHECK(count(err, " warning [http_check.0] ") == 2);
    CHECK(count(err, " warning [http_check.0] 1 of ") == 1);
    CHECK_THAT(err, Catch::Contains("site(s) started failing; for example site=\"r"));
    CHECK_THAT(err, Catch::Contains("checks failed in the last "));
    CHECK_THAT(err, Catch::Contains(" (connect "));
    CHECK_THAT(err, Catch::Contains("?token=***: connect: "));
    CHECK(err.find("s3cr3t") == std::string::npos);
    // At debug level each failed check has its line again.
    auto debug = run_for("debug", 300);
    CHECK(count(debug, " debug [http_check.0] site=\"r") >= 200);
    CHECK(debug.find("s3cr3t") == std::string::npos);
}
