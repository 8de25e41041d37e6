// SPDX-License-Identifier: Apache-2.0
// Kafka outages against the shipped etc/producer.yaml (disk buffer) and etc/consumer.yaml, with
// fixture sites checked every second:
//   - 120 s without Kafka, the producer killed with SIGKILL in the middle of it and restarted:
//     every slot of every site while a producer process ran is a row, no check is stored twice,
//     and the consumer stores rows again within 15 s of the broker being back;
//   - a 30 s outage into a buffer too small for it, when_full: drop_oldest: the records the
//     producer counts as dropped are exactly the checks missing from PostgreSQL, and the
//     consumer is back within 15 s of that shorter outage too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <atomic>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "kafka_support.hpp"
#include "pg_support.hpp"
#include "support.hpp"
#include "vigil/record.hpp"

namespace kt = vigil::test::kafka;
namespace pg = vigil::test::pg;
using vigil::test::Child;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

namespace {

std::string say(const std::string& what) {
    UNSCOPED_INFO(what);
    std::fprintf(stderr, "outage suite: %s\n", what.c_str());
    return what;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double metric(const Child& agent, const std::string& series) {
    return vigil::test::metric_value(vigil::test::metrics_of(agent), series);
}

// Whether something accepts TCP connections on 127.0.0.1:`port`.
bool accepting(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// The port of the listener the shipped pipelines use (KAFKA_BOOTSTRAP_SERVERS, host:port).
int bootstrap_port() {
    auto servers = kt::env("KAFKA_BOOTSTRAP_SERVERS");
    auto first = servers.substr(0, servers.find(','));
    return std::stoi(first.substr(first.rfind(':') + 1));
}

struct Setup {
    vigil::test::FixtureSites fixtures;
    vigil::test::TempDir dir;
    pg::TestDatabase db;
    std::string topic = kt::unique("outage");
    std::map<std::string, std::string> env;

    Setup(int sites, const std::map<std::string, std::string>& extra) {
        std::string list;
        for (int i = 0; i < sites; ++i) {
            list += "- {name: site-" + std::to_string(i) + ", url: \"" +
                    fixtures.url(i % 10 == 9 ? "/status/503" : "/ok") + "?i=" + std::to_string(i) + "\"}\n";
        }
        kt::create_topic(topic, 3);
        env = {{"SITES_FILE", dir.write("sites.yaml", list).string()},
               {"CHECK_INTERVAL", "1s"},
               {"REQUEST_TIMEOUT", "2s"},
               {"KAFKA_TOPIC", topic},
               {"KAFKA_CONSUMER_GROUP", topic + "-group"},
               {"DATABASE_URL", db.url()},
               {"BUFFER_PATH", (dir / "buffer").string()},
               {"PRODUCER_METRICS_LISTEN", "127.0.0.1:0"},
               {"CONSUMER_METRICS_LISTEN", "127.0.0.1:0"}};
        for (const auto& [k, v] : extra) {
            env[k] = v;
        }
    }
    std::unique_ptr<Child> start(const char* file) {
        auto etc = vigil::test::source_dir() / "etc";
        return std::make_unique<Child>(
            std::vector<std::string>{vigil::test::agent_binary().string(), "--pipeline", (etc / file).string()}, env);
    }
    long long rows() {
        auto v = pg::query(db.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'metrics'");
        return v[0][0] == "1" ? std::stoll(pg::scalar(db.url(), "SELECT count(*) FROM metrics")) : 0LL;
    }
    void services(const std::string& verb) {
        auto script = (vigil::test::source_dir() / "scripts" / "services").string();
        REQUIRE(vigil::test::run({script, verb, "kafka"}, {}, 120s).code == 0);
    }
    // Kafka down for `outage` (from the kill), `during` run meanwhile; returns how long after the
    // broker was back (its listener accepting connections again) the consumer stored a new row.
    double outage(Clock::duration outage, const std::function<void()>& during) {
        services("kill");
        auto down = Clock::now();
        say("Kafka killed (SIGKILL)");
        during();
        std::this_thread::sleep_until(down + outage);  // the outage's length is the scenario
        auto before = rows();
        int port = bootstrap_port();
        std::atomic<bool> started{false};
        std::thread start([&] {
            services("start");
            started = true;
        });
        Clock::time_point back{};
        bool reachable = vigil::test::wait_until([&] { return accepting(port); }, 120s);
        back = Clock::now();
        bool stored = vigil::test::wait_until([&] { return rows() > before; }, 90s);
        auto resumed = seconds(Clock::now() - back);
        start.join();
        say("Kafka reachable again after " + std::to_string(seconds(back - down)) +
            " s down; the consumer stored "
            "new rows " +
            std::to_string(resumed) + " s later");
        REQUIRE(reachable);
        REQUIRE(started);
        REQUIRE(stored);
        return resumed;
    }
};

}  // namespace

TEST_CASE(
    "faults: a 120 s Kafka outage with the producer killed in it: every slot checked while a producer ran "
    "is one row, and the consumer is back within 15 s",
    "[fault]") {
    Setup s(50, {});
    auto consumer = s.start("consumer.yaml");
    auto t_start1 = Clock::now();
    auto producer = s.start("producer.yaml");
    REQUIRE(vigil::test::wait_until([&] { return s.rows() > 300; }, 60s));
    Clock::time_point t_kill, t_start2;
    auto resumed = s.outage(120s, [&] {
        // The producer keeps checking into its buffer; killed once it holds a good part of the
        // outage, and started again into the same buffer.
        REQUIRE(vigil::test::wait_until(
            [&] { return metric(*producer, "vigil_buffer_records{pipeline=\"producer\"}") >= 1500; }, 60s));
        t_kill = Clock::now();
        producer->signal(SIGKILL);
        producer->wait();
        t_start2 = Clock::now();
        producer = s.start("producer.yaml");
        say("producer killed with SIGKILL " + std::to_string(seconds(t_kill - t_start1)) +
            " s after its start, "
            "and started again");
    });
    CHECK(resumed <= 15.0);
    auto back = Clock::now();
    bool drained = vigil::test::wait_until(
        [&] { return metric(*producer, "vigil_buffer_records{pipeline=\"producer\"}") == 0; }, 180s);
    say("the producer's buffer drained " + std::to_string(seconds(Clock::now() - back)) + " s after that");
    REQUIRE(drained);
    // A little steady state after the drain, then a clean stop.
    auto rows_now = s.rows();
    REQUIRE(vigil::test::wait_until([&] { return s.rows() > rows_now + 500; }, 60s));
    auto t_end2 = Clock::now();
    producer->signal(SIGTERM);
    REQUIRE(producer->wait(60s) == 0);
    // A check the buffer sent again after the kill is in Kafka twice (at least once into Kafka)
    // and one row (exactly once into PostgreSQL): the consumer is caught up at the distinct checks.
    auto total = kt::count(s.topic);
    std::set<std::string> checks;
    for (const auto& m : kt::read_all(s.topic, static_cast<std::size_t>(total), 120s)) {
        auto d = vigil::decode_json(m.value);
        REQUIRE(d);
        checks.insert(d.record->check_id);
    }
    auto distinct = static_cast<long long>(checks.size());
    bool caught_up = vigil::test::wait_until([&] { return s.rows() >= distinct; }, 120s);
    consumer->signal(SIGTERM);
    CHECK(consumer->wait(60s) == 0);
    INFO("producer log:\n" << producer->err());
    say("Kafka holds " + std::to_string(total) + " messages (" + std::to_string(distinct) +
        " distinct checks); PostgreSQL holds " + std::to_string(s.rows()) + " rows");
    REQUIRE(caught_up);

    // Each row's slot: when the check was due (its start less its lag), on the site's grid.
    auto url = s.db.url();
    std::map<std::string, std::set<long long>> slots;
    std::map<std::string, double> phase;
    std::size_t rows = 0;
    for (const auto& r : pg::query(url,
                                   "SELECT name, extract(epoch from \"timestamp\") * 1000 - coalesce(lag_ms, 0) "
                                   "FROM metrics")) {
        double due_ms = std::stod(r[1]);
        auto k = std::llround(due_ms / 1000.0 - phase.emplace(r[0], std::fmod(due_ms / 1000.0, 1.0)).first->second);
        slots[r[0]].insert(k);
        ++rows;
    }
    // Slots due while a producer process was running, per site.
    auto ms = [](Clock::time_point t) {
        return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count() / 1000.0;
    };
    const std::pair<double, double> windows[] = {{ms(t_start1), ms(t_kill)}, {ms(t_start2), ms(t_end2)}};
    std::size_t expected = 0, covered = 0;
    for (const auto& [name, p] : phase) {
        for (const auto& [a, b] : windows) {
            auto first = static_cast<long long>(std::ceil(a - p));
            auto last = static_cast<long long>(std::floor(b - p));
            for (auto k = first; k <= last; ++k) {
                ++expected;
                covered += slots[name].count(k);
            }
        }
    }
    auto once = pg::stored_once(url);
    std::size_t distinct_slots = 0;
    for (const auto& [name, set] : slots) {
        distinct_slots += set.size();
    }
    double coverage = 100.0 * static_cast<double>(covered) / static_cast<double>(expected);
    say(std::to_string(phase.size()) + " sites, " + std::to_string(expected) + " slots while a producer ran, " +
        std::to_string(covered) + " stored (" + std::to_string(coverage) + "%); " + std::to_string(rows) + " rows; " +
        once.summary());
    CHECK(phase.size() == 50);
    CHECK(coverage >= 99.5);
    CHECK(once.same_slot == 0);
    CHECK(once.rejected == 0);
    CHECK(distinct_slots == rows);  // no slot checked twice either
}

TEST_CASE(
    "faults: an outage into a buffer too small for it (drop_oldest): the counted drops are exactly the "
    "missing checks, and the consumer is back within 15 s of a 30 s outage",
    "[fault]") {
    Setup s(250, {{"BUFFER_MAX_SIZE", "4MiB"}, {"BUFFER_WHEN_FULL", "drop_oldest"}});
    auto consumer = s.start("consumer.yaml");
    auto producer = s.start("producer.yaml");
    REQUIRE(vigil::test::wait_until([&] { return s.rows() > 1000; }, 60s));
    auto resumed = s.outage(30s, [] {});
    CHECK(resumed <= 15.0);
    auto dropped = metric(*producer, "vigil_buffer_dropped_records_total{pipeline=\"producer\",reason=\"full\"}");
    REQUIRE(vigil::test::wait_until(
        [&] { return metric(*producer, "vigil_buffer_records{pipeline=\"producer\"}") == 0; }, 120s));
    producer->signal(SIGTERM);
    REQUIRE(producer->wait(60s) == 0);
    // The producer's last line: what it stored, dropped and left.
    std::smatch m;
    auto log = producer->err();
    INFO(log);
    REQUIRE(std::regex_search(log, m,
                              std::regex(R"(stopped: \d+ batches \((\d+) records\) stored in the buffer, )"
                                         R"((\d+) of its records dropped when it was full; (\d+) records stay)")));
    long long stored = std::stoll(m[1]), lost = std::stoll(m[2]), left = std::stoll(m[3]);
    bool exact = vigil::test::wait_until([&] { return s.rows() == stored - lost - left; }, 120s);
    consumer->signal(SIGTERM);
    CHECK(consumer->wait(60s) == 0);
    say(std::to_string(stored) + " checks, " + std::to_string(lost) + " dropped (" + std::to_string(dropped) +
        " by /metrics at the end of the outage), " + std::to_string(left) + " left in the buffer; " +
        std::to_string(s.rows()) + " rows");
    CHECK(lost > 0);
    CHECK(lost >= dropped);
    CHECK(exact);
    auto once = pg::stored_once(s.db.url());
    INFO(once.summary());
    CHECK(once.same_slot == 0);
    CHECK(once.rejected == 0);
}
