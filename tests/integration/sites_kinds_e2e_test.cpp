// SPDX-License-Identifier: Apache-2.0
// One sites topic holding sites of several kinds, against the real broker and DNS server of
// scripts/services: `agent sites import` has each site validated by the pipeline's plugin of its
// kind (a bad one anywhere publishes nothing), and one producer running http_check, tcp_check and
// dns_check on the same topic checks each site with the plugin of its kind, none rejected; a
// SIGHUP reads the topic's sites again with the new plugin-level defaults.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <set>

#include "fixture_sites.hpp"
#include "kafka_support.hpp"
#include "support.hpp"
#include "vigil/record.hpp"

namespace kt = vigil::test::kafka;
using namespace std::chrono_literals;
using vigil::test::Child;

namespace {

std::string dns_server() {
    const char* s = std::getenv("VIGIL_DNS_SERVER");
    return s != nullptr ? s : "127.0.0.1:15353";
}

struct Producer {
    std::string topic = kt::unique("kinds");
    std::string group = kt::unique("kinds");
    vigil::test::TempDir dir;

    // A pipeline with the check plugins `plugins` (each `plugin`, or `plugin|key: value` for one
    // more plugin-level option), all on the one topic.
    std::filesystem::path pipeline(const std::string& file, const std::vector<std::string>& plugins) {
        std::string text = "pipeline: producer\nsources:\n";
        for (const auto& spec : plugins) {
            auto bar = spec.find('|');
            text += "  - plugin: " + spec.substr(0, bar) + "\n" +
                    (bar == std::string::npos ? "" : "    " + spec.substr(bar + 1) + "\n") +
                    "    interval: 1s\n    timeout: 900ms\n    sites_topic:\n      topic: " + topic +
                    "\n      group: " + group + "\n      brokers: " + kt::plaintext_brokers() +
                    "\n      session_timeout: 6s\n      partitions: 4\n";
        }
        text += "sinks: [{plugin: stdout_sink, path: out.jsonl}]\nmetrics: {listen: \"127.0.0.1:0\"}\n";
        return dir.write(file, text);
    }
    vigil::test::RunResult sites(const std::filesystem::path& pipeline, std::vector<std::string> words) const {
        std::vector<std::string> argv{vigil::test::agent_binary().string(), "sites"};
        argv.insert(argv.end(), words.begin(), words.end());
        argv.insert(argv.end(), {"--pipeline", pipeline.string()});
        return vigil::test::run(argv);
    }
    // name -> kinds seen in its records, and whether each was ok.
    std::map<std::string, std::set<std::string>> kinds() const {
        std::map<std::string, std::set<std::string>> out;
        for (const auto& line : vigil::test::read_lines(dir / "out.jsonl")) {
            if (auto r = vigil::decode_json(line)) {
                out[r.record->name].insert(r.record->kind.value_or("http") +
                                           (r.record->ok.value_or(false) ? "" : " failed"));
            }
        }
        return out;
    }
};

}  // namespace

TEST_CASE("sites topic of several kinds: each validated by its kind's plugin, each checked by it", "[integration]") {
    vigil::test::FixtureSites fixture;
    Producer p;
    auto all = p.pipeline("producer.yaml", {"http_check", "tcp_check", "dns_check"});
    auto port = std::to_string(fixture.http);
    auto dns = "dns://" + dns_server() + "/www.vigil.test?type=A";

    // One bad entry of each other kind, and one of no kind: located errors from each plugin,
    // nothing published (the topic is not even made).
    auto bad = p.dir.write("bad.yaml", "- {name: web, url: \"" + fixture.url("/ok") +
                                           "\"}\n"
                                           "- {name: port, url: \"tcp://127.0.0.1:" +
                                           port +
                                           "\", expect: \"((\"}\n"
                                           "- {name: zone, url: \"" +
                                           dns +
                                           "\", rcode: MAYBE}\n"
                                           "- {name: ftp, url: \"ftp://127.0.0.1/\"}\n");
    auto refused = p.sites(all, {"import", bad.string()});
    INFO(refused.err);
    CHECK(refused.code == 78);
    CHECK(refused.err.find(bad.string() + ":2:") != std::string::npos);
    CHECK(refused.err.find("error: [1].expect: invalid regular expression \"((\"") != std::string::npos);
    CHECK(refused.err.find(bad.string() + ":3:") != std::string::npos);
    CHECK(refused.err.find("error: [2].rcode:") != std::string::npos);
    CHECK(refused.err.find("error: [3].url: \"ftp://127.0.0.1/\" names no kind of check") != std::string::npos);
    CHECK(refused.err.find("nothing published") != std::string::npos);
    CHECK(p.sites(all, {"list"}).code == 1);  // no topic: nothing was published, not even the http site

    // A kind the pipeline has no plugin for.
    auto no_dns = p.pipeline("no-dns.yaml", {"http_check", "tcp_check"});
    auto orphan = p.sites(no_dns, {"add", "zone", dns});
    CHECK(orphan.code == 78);
    CHECK(orphan.err.find("is a dns site, and this pipeline has no dns_check to take it") != std::string::npos);

    // --dry-run validates every kind and publishes nothing.
    auto good = p.dir.write("good.yaml", "- {name: web, url: \"" + fixture.url("/ok") +
                                             "\", regex: Vigil}\n"
                                             "- {name: port, url: \"tcp://127.0.0.1:" +
                                             port +
                                             "\"}\n"
                                             "- {name: zone, url: \"" +
                                             dns + "\", answers: [127.0.0.1, 127.0.0.2]}\n");
    auto dry = p.sites(all, {"import", good.string(), "--dry-run"});
    INFO(dry.err);
    CHECK(dry.code == 0);
    CHECK(dry.err.find("valid: 1 http, 1 dns, 1 tcp site(s); nothing published (--dry-run)") != std::string::npos);
    CHECK(p.sites(all, {"list"}).code == 1);

    auto imported = p.sites(all, {"import", good.string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);
    CHECK(imported.err.find("published 1 http site(s) to topic " + p.topic) != std::string::npos);
    CHECK(imported.err.find("published 1 tcp site(s) to topic " + p.topic) != std::string::npos);
    CHECK(imported.err.find("published 1 dns site(s) to topic " + p.topic) != std::string::npos);
    // `add` of a TCP site through the pipeline, whose first source is http_check.
    auto added = p.sites(all, {"add", "closed", "tcp://127.0.0.1:1"});
    INFO(added.err);
    REQUIRE(added.code == 0);
    CHECK(added.err.find("published 1 tcp site(s)") != std::string::npos);

    Child producer({vigil::test::agent_binary().string(), "--pipeline", all.string()});
    std::map<std::string, std::set<std::string>> seen;
    REQUIRE(vigil::test::wait_until(
        [&] {
            seen = p.kinds();
            return seen.size() == 4;
        },
        40s));
    CHECK(seen["web"] == std::set<std::string>{"http"});
    CHECK(seen["port"] == std::set<std::string>{"tcp"});
    CHECK(seen["zone"] == std::set<std::string>{"dns"});
    CHECK(seen["closed"] == std::set<std::string>{"tcp failed"});
    auto page = vigil::test::metrics_of(producer);
    // Each plugin passed over the other kinds' messages without counting them as bad.
    for (const char* series : {"vigil_http_check_sites_topic_rejected_total{instance=\"http_check.0\"}",
                               "vigil_tcp_check_sites_topic_rejected_total{instance=\"tcp_check.1\"}",
                               "vigil_dns_check_sites_topic_rejected_total{instance=\"dns_check.2\"}"}) {
        CHECK(vigil::test::metric_value(page, series) == 0);
    }
    CHECK(vigil::test::metric_value(page, "vigil_tcp_check_sites{instance=\"tcp_check.1\"}") == 2);
    CHECK(vigil::test::metric_value(page, "vigil_dns_check_sites{instance=\"dns_check.2\"}") == 1);
    CHECK(producer.err().find("tcp sites from topic " + p.topic + " as a member of group " + p.group + ".tcp") !=
          std::string::npos);

    // SIGHUP with a new plugin-level default: every topic site of that kind read again with it.
    p.pipeline("producer.yaml", {"http_check", "tcp_check|group: ops", "dns_check"});
    auto reloaded_at = std::chrono::system_clock::now();
    producer.signal(SIGHUP);
    REQUIRE(vigil::test::wait_until(
        [&] {
            for (const auto& line : vigil::test::read_lines(p.dir / "out.jsonl")) {
                if (auto r = vigil::decode_json(line);
                    r && r.record->name == "port" && r.record->timestamp > reloaded_at + 1s) {
                    return r.record->group == "ops";
                }
            }
            return false;
        },
        20s));

    // Removed, whatever its kind: no check of it later than two intervals on.
    REQUIRE(p.sites(all, {"remove", "port"}).code == 0);
    auto removed_at = std::chrono::system_clock::now();
    REQUIRE(vigil::test::wait_until([&] { return std::chrono::system_clock::now() > removed_at + 4s; }, 10s));
    for (const auto& line : vigil::test::read_lines(p.dir / "out.jsonl")) {
        if (auto r = vigil::decode_json(line); r && r.record->name == "port") {
            CHECK(r.record->timestamp - removed_at <= 2s);
        }
    }
    producer.signal(SIGTERM);
    REQUIRE(producer.wait(30s) == 0);
}
