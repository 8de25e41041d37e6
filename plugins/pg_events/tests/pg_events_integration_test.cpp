// SPDX-License-Identifier: Apache-2.0
// pg_events against the PostgreSQL of scripts/services, each test in a database of its own,
// driven by an emitter whose acknowledgements the test controls.
#include <atomic>
#include <condition_variable>
#include <thread>

#include <catch2/catch.hpp>

#include "pg_events.hpp"
#include "pg_support.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

namespace pg = vigil::test::pg;
using namespace vigil::plugins::pg_events;
using namespace std::chrono_literals;

namespace {

// Keeps what is emitted; acknowledges only when told (or at once with auto_ack).
class Held final : public vigil::Emitter {
  public:
    bool auto_ack = false;
    bool emit(vigil::Batch b, vigil::AckFn ack) override {
        std::lock_guard lock(mutex_);
        for (auto& r : b.records) {
            records_.push_back(r);
        }
        if (auto_ack) {
            ack(vigil::AckStatus::Delivered);
        } else {
            acks_.push_back(std::move(ack));
        }
        return true;
    }
    void ack_all(vigil::AckStatus status = vigil::AckStatus::Delivered) {
        std::vector<vigil::AckFn> acks;
        {
            std::lock_guard lock(mutex_);
            acks.swap(acks_);
        }
        for (auto& a : acks) {
            a(status);
        }
    }
    std::vector<vigil::Record> records() const {
        std::lock_guard lock(mutex_);
        return records_;
    }
    std::vector<std::int64_t> ids() const {
        std::vector<std::int64_t> out;
        for (const auto& r : records()) {
            out.push_back(r.event ? r.event->id : -1);
        }
        return out;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<vigil::Record> records_;
    std::vector<vigil::AckFn> acks_;
};

class Stop final : public vigil::StopToken {
  public:
    void request() { flag_ = true; }
    bool stop_requested() const override { return flag_; }
    bool wait_for(vigil::Duration d) const override {
        auto until = std::chrono::steady_clock::now() + d;
        while (!flag_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(5ms);
        }
        return flag_;
    }

  private:
    std::atomic<bool> flag_{false};
};

// A reader running on a thread of its own until the test stops it.
class Reader {
  public:
    Reader(const std::string& url, const std::string& extra, Held& out) {
        auto s = vigil::test::check_section("plugin: pg_events\nurl: \"" + url + "\"\n" + extra, kOptions,
                                            vigil::PluginKind::Source);
        INFO(s->errors());
        REQUIRE_FALSE(s->diags.has_errors());
        auto c = parse_config(s->node, "pg_events.test", "alerts", s->diags);
        REQUIRE(c);
        source_ = std::make_unique<PgEvents>(std::move(*c), "pg_events.test", vigil::Logger("pg_events.test"));
        thread_ = std::thread([this, &out] { status_ = source_->run(out, stop_, {}); });
    }
    ~Reader() { finish(); }
    void finish() {
        if (thread_.joinable()) {
            stop_.request();
            thread_.join();
        }
    }
    vigil::Status status() const { return status_; }

  private:
    std::unique_ptr<PgEvents> source_;
    Stop stop_;
    std::thread thread_;
    vigil::Status status_ = vigil::Status::success();
};

void migrate(const std::string& url) {
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "migrate", "--database-url", url});
    INFO(r.err);
    REQUIRE(r.code == 0);
}

// Adds an event for `site` as pg_sink does: in a transaction with a NOTIFY.
void add_event(const std::string& url, const std::string& site, const std::string& to = "down") {
    pg::query(url,
              "BEGIN; INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, "
              "cause, error_detail) VALUES ('" +
                  site + "', 'https://" + site + ".example/', 'up', '" + to +
                  "', '2027-01-01T00:00:00Z', '2026-12-31T00:00:00Z', '" + site +
                  "-c', 'three failures', 'connect', 'refused'); NOTIFY vigil_site_events; COMMIT");
}

std::string cursor(const std::string& url) {
    return pg::scalar(url,
                      "SELECT coalesce((SELECT last_id::text FROM site_events_cursors WHERE name = 'alerts'), "
                      "'none')");
}

}  // namespace

TEST_CASE("pg_events: events after the cursor in id order; the cursor moves only when they are acknowledged",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    for (auto site : {"a", "b", "c"}) {
        add_event(db.url(), site);
    }
    Held out;
    {
        Reader reader(db.url(), "start: beginning\nrefresh: 0\npoll_interval: 100ms\n", out);
        REQUIRE(vigil::test::wait_until([&] { return out.ids().size() == 3; }));
        CHECK(out.ids() == std::vector<std::int64_t>{1, 2, 3});
        auto first = out.records().front();
        REQUIRE(first.event);
        CHECK(first.event->site == "a");
        CHECK(first.event->from == "up");
        CHECK(first.event->to == "down");
        CHECK(first.event->cause == std::optional<std::string>("connect"));
        CHECK(vigil::format_timestamp(first.event->at) == "2027-01-01T00:00:00.000000Z");
        CHECK(first.origin == "site_events id=1");
        CHECK(first.check.name == "a");
        CHECK(cursor(db.url()) == "0");  // emitted, not acknowledged
        out.ack_all();
        REQUIRE(vigil::test::wait_until([&] { return cursor(db.url()) == "3"; }));
        add_event(db.url(), "d");
        REQUIRE(vigil::test::wait_until([&] { return out.ids().size() == 4; }));
        // Stopped before "d" is acknowledged: the pipeline reports it undelivered.
        std::thread stopper([&] { reader.finish(); });
        out.ack_all(vigil::AckStatus::Undelivered);
        stopper.join();
        CHECK(reader.status().ok());
    }
    CHECK(cursor(db.url()) == "3");
    Held again;
    again.auto_ack = true;
    Reader reader(db.url(), "refresh: 0\npoll_interval: 100ms\n", again);
    REQUIRE(vigil::test::wait_until([&] { return again.ids().size() == 1; }));
    CHECK(again.ids() == std::vector<std::int64_t>{4});  // the same id: delivered at least once
    REQUIRE(vigil::test::wait_until([&] { return cursor(db.url()) == "4"; }));
}

TEST_CASE("pg_events: a COMMIT's notification wakes the reader long before poll_interval", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    Held out;
    out.auto_ack = true;
    Reader reader(db.url(), "refresh: 0\npoll_interval: 10m\n", out);
    REQUIRE(vigil::test::wait_until([&] { return cursor(db.url()) == "0"; }));
    // The reader is past its first read (its session's last statement), idle until woken.
    REQUIRE(vigil::test::wait_until([&] {
        return pg::scalar(db.url(),
                          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                          "state = 'idle' AND query LIKE '%FROM site_events WHERE id > $1%'") == "1";
    }));
    add_event(db.url(), "shop");
    // Ten minutes of poll_interval: only the NOTIFY can deliver it within the deadline.
    CHECK(vigil::test::wait_until([&] { return out.ids().size() == 1; }, 5s));
}

TEST_CASE("pg_events: start: end skips the history; a second reader of the cursor stands by, then takes over",
          "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    add_event(db.url(), "old");
    Held first, second;
    first.auto_ack = second.auto_ack = true;
    auto first_reader = std::make_unique<Reader>(db.url(), "refresh: 0\npoll_interval: 100ms\n", first);
    REQUIRE(vigil::test::wait_until([&] { return cursor(db.url()) == "1"; }));
    Reader standby(db.url(), "refresh: 0\npoll_interval: 100ms\n", second);
    add_event(db.url(), "new");
    REQUIRE(vigil::test::wait_until([&] { return first.ids().size() == 1; }));
    CHECK(first.ids() == std::vector<std::int64_t>{2});
    // The standby looks for the cursor every 100 ms: three of its looks after the event and it
    // still has nothing (the first reader holds the cursor).
    auto& polls = vigil::counter("vigil_pg_events_standby_polls_total", {{"instance", "pg_events.test"}});
    auto seen = polls.value();
    REQUIRE(vigil::test::wait_until([&] { return polls.value() >= seen + 3; }));
    CHECK(second.ids().empty());
    first_reader.reset();
    add_event(db.url(), "later");
    REQUIRE(vigil::test::wait_until([&] { return second.ids().size() == 1; }));
    CHECK(second.ids() == std::vector<std::int64_t>{3});
}

TEST_CASE("pg_events: refresh sends the state of every site that is not up, as id-0 events", "[integration]") {
    pg::TestDatabase db;
    migrate(db.url());
    pg::query(db.url(),
              "INSERT INTO site_state (site, url, state, since, cause, last_check_id, last_timestamp) VALUES "
              "('down1', 'https://d.example/', 'down', '2027-01-01T00:00:00Z', 'timeout', 'c9', "
              "'2027-01-01T00:05:00Z'), ('fine', 'https://f.example/', 'up', '2027-01-01T00:00:00Z', NULL, 'c1', "
              "NULL), ('slow', 'https://s.example/', 'degraded', '2027-01-01T00:00:00Z', 'slow', 'c2', NULL)");
    Held out;
    out.auto_ack = true;
    Reader reader(db.url(), "refresh: 1s\npoll_interval: 100ms\n", out);
    REQUIRE(vigil::test::wait_until([&] { return out.records().size() >= 4; }));  // at start, and 1 s later
    auto records = out.records();
    CHECK(records[0].event->id == 0);
    CHECK(records[0].event->site == "down1");
    CHECK(records[0].event->from == "down");
    CHECK(records[0].event->to == "down");
    CHECK(records[0].event->cause == std::optional<std::string>("timeout"));
    CHECK(vigil::format_timestamp(records[0].event->since) == "2027-01-01T00:00:00.000000Z");
    CHECK(records[1].event->site == "slow");
    CHECK(records[2].event->site == "down1");
    CHECK(cursor(db.url()) == "0");
}
