// SPDX-License-Identifier: Apache-2.0
// The delivery promise across the whole system: the shipped etc/producer.yaml and
// etc/consumer.yaml run against the real services and a few hundred fixture sites while,
// at random moments (seeded; the seed is printed), the producer and a consumer are killed with
// SIGKILL and restarted, the Kafka broker is killed and restarted, PostgreSQL is restarted, and
// a second consumer joins the group and one of the two is killed. At the end every check Kafka
// holds is a row in PostgreSQL, exactly once, and Kafka holds a check twice only if the producer's
// disk buffer sent it again after the producer was killed. And the site state the consumers kept
// (etc/consumer.yaml's `state:`) through all of it is exactly what one pg_sink makes of the stored
// checks written once, in order: redeliveries, kills and the rebalance changed nothing.
#include <csignal>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "pg_sink.hpp"
#include "plugin_config.hpp"
#include "kafka_support.hpp"
#include "pg_support.hpp"
#include "support.hpp"
#include "vigil/record.hpp"

namespace kt = vigil::test::kafka;
namespace pg = vigil::test::pg;
using vigil::test::Child;
using namespace std::chrono_literals;

namespace {

std::string say(const std::string& what) {
    UNSCOPED_INFO(what);
    std::fprintf(stderr, "fault suite: %s\n", what.c_str());
    return what;
}

// The stored checks of `from`, each site's in start order, written once by a fresh pg_sink with
// the shipped consumer's state rules into `to`.
void replay_state(const std::string& from, const std::string& to) {
    auto s = vigil::test::check_section("plugin: pg_sink\nurl: \"" + to +
                                            "\"\nmigrate: true\nstate: {down_after: 3, up_after: 2, slow_ms: 0, "
                                            "cert_warn: 14d}\nconnections: 1\nmax_rows: 100000\n",
                                        vigil::plugins::pg_sink::kOptions, vigil::PluginKind::Sink);
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = vigil::plugins::pg_sink::parse_config(s->node, "pg_sink.replay", s->diags);
    REQUIRE(c);
    vigil::plugins::pg_sink::PgSink sink(std::move(*c), "pg_sink.replay", vigil::Logger("pg_sink.replay"));
    REQUIRE(sink.start().ok());
    auto micros = [](const std::string& v) { return vigil::Timestamp(std::chrono::microseconds(std::stoll(v))); };
    vigil::Batch all;
    for (const auto& r : pg::query(from,
                                   "SELECT name, url, (extract(epoch FROM \"timestamp\") * 1000000)::bigint, "
                                   "check_id, coalesce(ok::text, ''), coalesce(error, ''), error_detail, "
                                   "coalesce(status_code::text, ''), response_time, "
                                   "coalesce(((extract(epoch FROM tls_not_after) * 1000000)::bigint)::text, ''), "
                                   "coalesce(regex_check::text, '') FROM metrics "
                                   "ORDER BY name, \"timestamp\", check_id")) {
        vigil::CheckRecord k;
        k.name = r[0];
        k.url = r[1];
        k.timestamp = micros(r[2]);
        k.check_id = r[3];
        if (!r[4].empty()) {
            k.ok = r[4] == "true";
        }
        if (!r[5].empty()) {
            k.error = r[5];
            k.error_detail = r[6];
        }
        if (!r[7].empty()) {
            k.status_code = std::stoi(r[7]);
        }
        k.response_time = std::stod(r[8]);
        if (!r[9].empty()) {
            k.tls_not_after = micros(r[9]);
        }
        if (!r[10].empty()) {
            k.regex_check = r[10] == "true";
        }
        all.records.push_back({std::move(k), ""});
    }
    auto w = sink.write(all);
    INFO(w.error);
    REQUIRE(w.kind == vigil::WriteResult::Kind::Accepted);
}

}  // namespace

TEST_CASE("faults: producer, consumer, broker and database restarts lose no check and store none twice", "[fault]") {
    std::uint64_t seed = std::random_device{}();
    if (const char* s = std::getenv("VIGIL_FAULT_SEED")) {
        seed = std::strtoull(s, nullptr, 10);
    }
    say("seed " + std::to_string(seed) + " (VIGIL_FAULT_SEED=" + std::to_string(seed) + " repeats this run)");
    std::mt19937_64 rng(seed);
    auto pause = [&] {
        auto ms = 500 + rng() % 2500;
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // the random moment, not a wait for a result
    };

    vigil::test::FixtureSites fixtures;
    vigil::test::TempDir dir;
    std::string sites;
    const char* paths[] = {"/ok", "/delay/50", "/status/500", "/size/20000", "/redirect/2"};
    for (int i = 0; i < 300; ++i) {
        sites += "- {name: site-" + std::to_string(i) + ", url: \"http://127.0.0.1:" + std::to_string(fixtures.http) +
                 paths[i % 5] + "?i=" + std::to_string(i) + "\"}\n";
    }
    auto sites_file = dir.write("sites.yaml", sites);
    pg::TestDatabase db;
    auto topic = kt::unique("faults");
    kt::create_topic(topic, 3);
    std::map<std::string, std::string> env = {
        {"SITES_FILE", sites_file.string()},
        {"CHECK_INTERVAL", "1s"},
        {"REQUEST_TIMEOUT", "2s"},
        {"KAFKA_TOPIC", topic},
        {"KAFKA_CONSUMER_GROUP", topic + "-group"},
        {"DATABASE_URL", db.url()},
        {"KAFKA_SESSION_TIMEOUT", "6s"},
        {"BUFFER_PATH", (dir / "buffer").string()},
        {"PRODUCER_METRICS_LISTEN", "127.0.0.1:0"},
        {"CONSUMER_METRICS_LISTEN", "127.0.0.1:0"},
    };
    auto etc = vigil::test::source_dir() / "etc";
    auto start = [&](const char* file) {
        return std::make_unique<Child>(
            std::vector<std::string>{vigil::test::agent_binary().string(), "--pipeline", (etc / file).string()}, env);
    };
    auto rows = [&] {
        auto v = pg::query(db.url(), "SELECT count(*) FROM pg_tables WHERE tablename = 'metrics'");
        return v[0][0] == "1" ? std::stoll(pg::scalar(db.url(), "SELECT count(*) FROM metrics")) : 0LL;
    };
    auto progress = [&](const char* after) {
        auto before = rows();
        INFO("rows did not grow after: " << after);
        REQUIRE(vigil::test::wait_until([&] { return rows() > before + 300; }, 90s));
        say(std::string("  after ") + after + ": " + std::to_string(rows()) + " rows stored, " +
            std::to_string(kt::count(topic)) + " messages in Kafka");
    };
    auto services = (vigil::test::source_dir() / "scripts" / "services").string();

    // The tables first, so that every row pg_sink offers is audited (migrate: true then finds
    // nothing to do).
    auto migrated = vigil::test::run({vigil::test::agent_binary().string(), "migrate"}, {{"DATABASE_URL", db.url()}});
    INFO(migrated.err);
    REQUIRE(migrated.code == 0);
    pg::audit_metrics(db.url());
    auto producer = start("producer.yaml");
    auto consumer = start("consumer.yaml");
    progress("start");

    pause();
    say("killing the producer with SIGKILL and starting it again");
    auto producer_killed = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    producer->signal(SIGKILL);
    producer->wait();
    producer = start("producer.yaml");
    progress("producer restart");

    pause();
    say("killing the consumer with SIGKILL mid-batch and starting it again");
    consumer->signal(SIGKILL);
    consumer->wait();
    consumer = start("consumer.yaml");
    progress("consumer restart");

    pause();
    say("killing the Kafka broker with SIGKILL and starting it again");
    REQUIRE(vigil::test::run({services, "kill", "kafka"}).code == 0);
    REQUIRE(vigil::test::run({services, "start", "kafka"}, {}, 120s).code == 0);
    progress("broker restart");

    pause();
    say("restarting PostgreSQL (pg_ctl restart -m fast)");
    REQUIRE(vigil::test::run({services, "restart", "postgres"}, {}, 90s).code == 0);
    progress("database restart");

    pause();
    say("a second consumer joins the group; then one of the two is killed");
    auto second = start("consumer.yaml");
    progress("second consumer");
    pause();
    bool kill_first = rng() % 2 == 0;
    say(std::string("killing the ") + (kill_first ? "first" : "second") + " consumer with SIGKILL");
    (kill_first ? consumer : second)->signal(SIGKILL);
    (kill_first ? consumer : second)->wait();
    auto& survivor = kill_first ? second : consumer;
    progress("consumer killed in a group of two");

    say("stopping the producer (SIGTERM), waiting for the consumer to store everything Kafka holds");
    producer->signal(SIGTERM);
    REQUIRE(producer->wait(60s) == 0);
    auto total = kt::count(topic);
    std::set<std::string> in_kafka;
    std::size_t resent_after_kill = 0, resent_otherwise = 0;
    for (const auto& m : kt::read_all(topic, static_cast<std::size_t>(total), 120s)) {
        auto d = vigil::decode_json(m.value);
        REQUIRE(d);
        if (!in_kafka.insert(d.record->check_id).second) {
            ++(d.record->timestamp < producer_killed ? resent_after_kill : resent_otherwise);
        }
    }
    bool caught_up = vigil::test::wait_until([&] { return rows() >= static_cast<long long>(in_kafka.size()); }, 120s);
    survivor->signal(SIGTERM);
    CHECK(survivor->wait(60s) == 0);
    REQUIRE(caught_up);

    std::set<std::string> in_db;
    for (const auto& r : pg::query(db.url(), "SELECT check_id FROM metrics")) {
        in_db.insert(r[0]);
    }
    auto once = pg::stored_once(db.url());
    std::size_t missing = 0;
    for (const auto& id : in_kafka) {
        missing += in_db.count(id) == 0 ? 1 : 0;
    }
    say("Kafka holds " + std::to_string(total) + " messages (" + std::to_string(in_kafka.size()) +
        " distinct checks); PostgreSQL holds " + std::to_string(in_db.size()) + " rows; missing " +
        std::to_string(missing) + "; " + once.summary());
    CHECK(missing == 0);
    CHECK(in_db.size() == in_kafka.size());
    // Stored once: no check twice under two ids, no second insert refused, and every row came
    // through pg_sink (the audit saw each check it holds).
    CHECK(once.rows == static_cast<long long>(in_db.size()));
    CHECK(once.same_slot == 0);
    CHECK(once.rejected == 0);
    CHECK(once.offered_ids == once.rows);
    CHECK(once.offered >= once.rows);
    // A message twice in Kafka is a check the killed producer had sent and not yet marked as sent
    // in its disk buffer: replayed after its restart (at-least-once transport, by design); its
    // row is still single. The idempotent producer wrote nothing else twice.
    say(std::to_string(resent_after_kill) + " checks made before the producer's kill were sent again after it");
    CHECK(resent_otherwise == 0);
    CHECK(static_cast<std::size_t>(total) == in_kafka.size() + resent_after_kill);

    pg::TestDatabase once_db;
    replay_state(db.url(), once_db.url());
    auto events = [](const std::string& url) {
        return pg::query(url,
                         "SELECT site, from_state, to_state, at, check_id, reason, coalesce(cause, '-'), "
                         "coalesce(previous_cause, '-') FROM site_events ORDER BY site, at");
    };
    auto states = [](const std::string& url) {
        return pg::query(url,
                         "SELECT site, state, since, coalesce(cause, '-'), consecutive_failures, "
                         "consecutive_successes, consecutive_slow, consecutive_healthy, last_check_id, "
                         "last_timestamp FROM site_state ORDER BY site");
    };
    auto live = events(db.url());
    say(std::to_string(live.size()) + " site events kept by the consumers; " +
        std::to_string(events(once_db.url()).size()) + " made by one pg_sink writing every stored check once");
    CHECK(live.size() >= 50);  // the 60 sites answering 500 went down
    CHECK(live == events(once_db.url()));
    CHECK(states(db.url()) == states(once_db.url()));
}
