// SPDX-License-Identifier: Apache-2.0
// Producers that share a sites topic as one consumer group, one of them SIGKILLed: its sites
// are checked again by the others within the session timeout and two intervals, no slot of any
// site is checked by two producers, and the survivors share the work evenly. The topic holds
// websites, TCP ports and DNS names: each producer runs http_check, tcp_check and dns_check on it,
// and every kind fails over alike (each kind is its own group, <group>.<kind>).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "kafka_support.hpp"
#include "support.hpp"
#include "vigil/record.hpp"

namespace kt = vigil::test::kafka;
using namespace std::chrono_literals;
using vigil::test::Child;

namespace {

constexpr int kHttpSites = 300;
// Enough that the killed producer surely holds some of each kind: 12 partitions, 4 each, so it
// holds none of 24 with odds (2/3)^24, about 6 in 100,000.
constexpr int kTcpSites = 24;
constexpr int kDnsSites = 24;
constexpr int kSites = kHttpSites + kTcpSites + kDnsSites;
constexpr int kProducers = 3;

struct Check {
    int producer;
    vigil::Timestamp at;   // when the check started
    std::int64_t slot_ms;  // the grid slot it was for: start minus lag, in ms
};

// Every check written so far by each producer's stdout_sink, by site.
std::map<std::string, std::vector<Check>> checks(const vigil::test::TempDir& dir) {
    std::map<std::string, std::vector<Check>> out;
    for (int p = 0; p < kProducers; ++p) {
        for (const auto& line : vigil::test::read_lines(dir / ("out" + std::to_string(p) + ".jsonl"))) {
            auto r = vigil::decode_json(line);
            if (!r) {
                continue;  // a line being written
            }
            auto start_us = r.record->timestamp.time_since_epoch().count();
            auto slot = static_cast<std::int64_t>(
                std::llround((static_cast<double>(start_us) / 1000.0) - r.record->lag_ms.value_or(0)));
            out[r.record->name].push_back({p, r.record->timestamp, slot});
        }
    }
    return out;
}

vigil::Timestamp now_us() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// Which producer checked each site since `since` (sites checked by two count for both).
std::map<std::string, std::set<int>> owners(const std::map<std::string, std::vector<Check>>& all,
                                            vigil::Timestamp since) {
    std::map<std::string, std::set<int>> out;
    for (const auto& [site, list] : all) {
        for (const auto& c : list) {
            if (c.at >= since) {
                out[site].insert(c.producer);
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE(
    "producers: one of three SIGKILLed, its sites move to the others within the session timeout, "
    "no slot checked twice, shares even",
    "[fault]") {
    vigil::test::FixtureSites fixture;
    vigil::test::TempDir dir;
    auto topic = kt::unique("fault-sites"), group = kt::unique("fault-producers");
    const char* dns_server = std::getenv("VIGIL_DNS_SERVER");
    std::string dns =
        "dns://" + std::string(dns_server != nullptr ? dns_server : "127.0.0.1:15353") + "/www.vigil.test";
    std::string list = "[";
    for (int i = 0; i < kSites; ++i) {
        auto url = i < kHttpSites               ? fixture.url("/ok")
                   : i < kHttpSites + kTcpSites ? "tcp://127.0.0.1:" + std::to_string(fixture.http)
                                                : dns;
        list += (i > 0 ? ",\n" : "") + std::string("{\"name\": \"site-") + std::to_string(i) + "\", \"url\": \"" + url +
                "\"}";
    }
    auto sites = dir.write("sites.json", list + "]\n");
    auto pipeline = [&](int p) {
        std::string text = "pipeline: producer\nsources:\n";
        for (const char* plugin : {"http_check", "tcp_check", "dns_check"}) {
            text += std::string("  - plugin: ") + plugin + "\n    interval: 1s\n    timeout: 900ms\n    location: p" +
                    std::to_string(p) + "\n    sites_topic:\n      topic: " + topic + "\n      group: " + group +
                    "\n      brokers: " + kt::plaintext_brokers() +
                    "\n      session_timeout: 10s\n      partitions: 12\n";
        }
        return dir.write("p" + std::to_string(p) + ".yaml",
                         text + "sinks: [{plugin: stdout_sink, path: out" + std::to_string(p) + ".jsonl}]\n");
    };
    std::vector<std::filesystem::path> files;
    for (int p = 0; p < kProducers; ++p) {
        files.push_back(pipeline(p));
    }
    auto imported = vigil::test::run(
        {vigil::test::agent_binary().string(), "sites", "import", sites.string(), "--pipeline", files[0].string()});
    INFO(imported.err);
    REQUIRE(imported.code == 0);

    std::vector<std::unique_ptr<Child>> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.push_back(std::make_unique<Child>(std::vector<std::string>{
            vigil::test::agent_binary().string(), "--pipeline", files[static_cast<std::size_t>(p)].string()}));
    }
    // Settled: over the last 2 s every site was checked, each by one producer, and all three work.
    std::map<std::string, std::set<int>> settled;
    REQUIRE(vigil::test::wait_until(
        [&] {
            settled = owners(checks(dir), now_us() - 2s);
            std::set<int> working;
            for (const auto& [site, who] : settled) {
                if (who.size() != 1) {
                    return false;
                }
                working.insert(*who.begin());
            }
            return settled.size() == kSites && working.size() == kProducers;
        },
        90s));

    // SIGKILL the third: no clean leave, the group notices only when its session times out.
    auto killed_at = now_us();
    producers[2]->signal(SIGKILL);
    REQUIRE(producers[2]->wait(5s).has_value());
    std::set<std::string> orphans;
    for (const auto& [site, who] : settled) {
        if (who.count(2) > 0) {
            orphans.insert(site);
        }
    }
    REQUIRE(orphans.size() > 50);
    // Of every kind.
    auto orphans_in = [&](int from, int to) {
        return std::count_if(orphans.begin(), orphans.end(), [&](const std::string& site) {
            int i = std::stoi(site.substr(5));
            return i >= from && i < to;
        });
    };
    INFO("orphans: " << orphans_in(0, kHttpSites) << " http, " << orphans_in(kHttpSites, kHttpSites + kTcpSites)
                     << " tcp, " << orphans_in(kHttpSites + kTcpSites, kSites) << " dns");
    REQUIRE(orphans_in(kHttpSites, kHttpSites + kTcpSites) > 0);
    REQUIRE(orphans_in(kHttpSites + kTcpSites, kSites) > 0);
    // Every orphan checked again by a survivor.
    vigil::Timestamp all_moved{};
    REQUIRE(vigil::test::wait_until(
        [&] {
            auto now = owners(checks(dir), killed_at);
            for (const auto& site : orphans) {
                if (now[site].count(0) == 0 && now[site].count(1) == 0) {
                    return false;
                }
            }
            all_moved = now_us();
            return true;
        },
        40s));
    // Then 5 s of the survivors alone, for their shares.
    auto share_from = all_moved + 1s;
    REQUIRE(vigil::test::wait_until([&] { return now_us() > share_from + 5s; }, 10s));
    for (int p = 0; p < 2; ++p) {
        producers[static_cast<std::size_t>(p)]->signal(SIGTERM);
    }
    for (int p = 0; p < 2; ++p) {
        REQUIRE(producers[static_cast<std::size_t>(p)]->wait(30s) == 0);
    }

    auto all = checks(dir);
    REQUIRE(all.size() == kSites);
    std::chrono::microseconds longest{0};
    std::string longest_site;
    std::map<int, std::size_t> share;
    std::size_t twice = 0;
    for (const auto& [site, list] : all) {
        // No slot by two producers (nor twice by one).
        std::set<std::int64_t> slots;
        for (const auto& c : list) {
            twice += slots.insert(c.slot_ms).second ? 0 : 1;
        }
        // Longest gap between two checks of the site, from the first settled check on.
        std::vector<vigil::Timestamp> times;
        for (const auto& c : list) {
            times.push_back(c.at);
            if (c.at >= share_from && c.at < share_from + 5s) {
                ++share[c.producer];
            }
        }
        std::sort(times.begin(), times.end());
        for (std::size_t i = 1; i < times.size(); ++i) {
            if (times[i] - times[i - 1] > longest) {
                longest = std::chrono::duration_cast<std::chrono::microseconds>(times[i] - times[i - 1]);
                longest_site = site;
            }
        }
    }
    INFO("longest gap " << longest.count() / 1000 << " ms (" << longest_site << "); shares " << share[0] << " / "
                        << share[1] << " / killed " << share[2]);
    CHECK(twice == 0);
    CHECK(longest <= 15s);  // session_timeout 10 s + 2 intervals of 1 s, and a little
    CHECK(share[2] == 0);
    REQUIRE(share[0] > 0);
    REQUIRE(share[1] > 0);
    auto high = std::max(share[0], share[1]), low = std::min(share[0], share[1]);
    CHECK(static_cast<double>(high - low) <= 0.2 * static_cast<double>(high));  // within ±20% of each other
    // The dead producer's partitions went to the others only once its session had expired.
    CHECK(producers[0]->err().find("sites topic " + topic + ": assigned") != std::string::npos);
    CHECK(producers[0]->err().find("tcp sites from topic " + topic + " as a member of group " + group + ".tcp") !=
          std::string::npos);
}
