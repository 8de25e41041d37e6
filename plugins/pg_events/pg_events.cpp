// SPDX-License-Identifier: Apache-2.0
#include "pg_events.hpp"

#include <poll.h>

#include <algorithm>
#include <limits>
#include <chrono>

#include <fmt/core.h>

#include "location_notes.hpp"
#include "pg_result.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::pg_events {

using pg::chomp;
using pg::micros;
using pg::ok;
using pg::Result;
using pg::text_or_null;

namespace {

using Clock = std::chrono::steady_clock;

// What the event knows of its check, so that generic code (logs, dead letters) shows it.
Record to_record(SiteEvent e, std::string origin) {
    Record r;
    r.check.name = e.site;
    r.check.url = e.url;
    r.check.timestamp = e.at;
    r.check.check_id = e.check_id;
    r.check.ok = e.to == "up";
    if (e.to == "down") {
        r.check.error = e.cause;
    }
    r.check.error_detail = e.error_detail;
    r.origin = std::move(origin);
    r.event = std::move(e);
    return r;
}

constexpr const char* kLockKey = "hashtext('vigil.pg_events'), hashtext($1)";

}  // namespace

PgEvents::PgEvents(Config config, std::string instance, Logger log)
    : config_(std::move(config)), instance_(std::move(instance)), log_(std::move(log)),
      events_(counter("vigil_pg_events_events_total", {{"instance", instance_}}, "Site events emitted")),
      refreshed_(counter("vigil_pg_events_refreshed_total", {{"instance", instance_}},
                         "Current states of sites not up emitted by refresh")),
      standby_polls_(counter("vigil_pg_events_standby_polls_total", {{"instance", instance_}},
                             "Times this reader found its cursor held by another reader and stood by")),
      cursor_(gauge("vigil_pg_events_cursor", {{"instance", instance_}},
                    "The last event id every sink acknowledged, as stored in site_events_cursors")) {}

PgEvents::~PgEvents() { disconnect(); }

void PgEvents::disconnect() {
    conn_.reset();  // also ends LISTEN and releases the cursor's lock
}

Status PgEvents::open() {
    disconnect();
    std::string error;
    conn_ = pg::connect(config_.url, config_.application_name, error);
    if (conn_ == nullptr) {
        return Status::error(error);
    }
    host_ = pg::describe(conn_.get());
    Result r(PQexec(conn_.get(),
                    "SELECT to_regclass('site_events') IS NOT NULL AND to_regclass('site_state') IS NOT NULL "
                    "AND to_regclass('site_events_cursors') IS NOT NULL AND to_regclass('site_location_state') IS NOT "
                    "NULL"));
    if (!ok(r.get()) || PQgetvalue(r.get(), 0, 0)[0] != 't') {
        auto st = Status::error(
            ok(r.get())
                ? fmt::format("{}: the tables site_events, site_state, site_location_state and "
                              "site_events_cursors do not all exist (run `agent migrate`, or set migrate: true)",
                              host_)
                : fmt::format("{}: checking the tables: {}", host_, chomp(PQresultErrorMessage(r.get()))));
        disconnect();
        return st;
    }
    return Status::success();
}

Status PgEvents::connect(bool& standby) {
    standby = false;
    // Once per process: a standby that reconnects every poll_interval need not run the migrator
    // each time.
    if (!migrated_) {
        if (auto st = pg::apply_migrations(config_.url, config_.migrations, log_); !st.ok()) {
            return st;
        }
        migrated_ = true;
    }
    if (auto st = open(); !st.ok()) {
        return st;
    }
    auto failed = [&](const std::string& what, const PGresult* r) {
        auto st = Status::error(fmt::format("{}: {}: {}", host_, what, chomp(PQresultErrorMessage(r))));
        disconnect();
        return st;
    };
    Result r;
    const char* cursor[] = {config_.cursor.c_str()};
    r.reset(PQexecParams(conn_.get(), fmt::format("SELECT pg_try_advisory_lock({})", kLockKey).c_str(), 1, nullptr,
                         cursor, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return failed("locking the cursor", r.get());
    }
    if (PQgetvalue(r.get(), 0, 0)[0] != 't') {
        standby = true;
        disconnect();
        return Status::error(fmt::format("another reader holds cursor \"{}\"", config_.cursor));
    }
    r.reset(PQexec(conn_.get(), "LISTEN vigil_site_events"));
    if (!ok(r.get())) {
        return failed("LISTEN vigil_site_events", r.get());
    }
    const char* create[] = {config_.cursor.c_str(), config_.from_beginning ? "t" : "f"};
    r.reset(PQexecParams(conn_.get(),
                         "INSERT INTO site_events_cursors (name, last_id) SELECT $1, CASE WHEN $2::boolean THEN 0 "
                         "ELSE coalesce((SELECT max(id) FROM site_events), 0) END ON CONFLICT (name) DO NOTHING",
                         2, nullptr, create, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        return failed("creating the cursor", r.get());
    }
    r.reset(PQexecParams(conn_.get(), "SELECT last_id FROM site_events_cursors WHERE name = $1", 1, nullptr, cursor,
                         nullptr, nullptr, 0));
    if (!ok(r.get()) || PQntuples(r.get()) != 1) {
        return failed("reading the cursor", r.get());
    }
    std::int64_t stored = std::stoll(PQgetvalue(r.get(), 0, 0));
    saved_ = stored;
    {
        Lock lock(mutex_);
        // Another reader may have moved the cursor while this one stood by; what this one
        // emitted before losing its connection stays in flight, acknowledged or not.
        acked_ = std::max(acked_, stored);
        read_ = std::max(read_, stored);
    }
    cursor_.set(static_cast<double>(stored));
    log_.info("reading site events of {} after id {} (cursor \"{}\")", host_, read_, config_.cursor);
    return Status::success();
}

void PgEvents::read_locations(const PGresult* r, int row, int column, SiteEvent& e, const std::string& origin) {
    std::string error;
    e.locations = pg::notes_from_json(PQgetvalue(r, row, column), error);
    if (!error.empty()) {
        log_.warn("{}: {}: locations: {}", host_, origin, error);
    }
}

std::optional<std::vector<Record>> PgEvents::read_events() {
    auto after = std::to_string(read_);
    auto limit = std::to_string(config_.batch_size);
    const char* p[] = {after.c_str(), limit.c_str()};
    Result r(PQexecParams(
        conn_.get(),
        "SELECT id, site, url, from_state, to_state, (extract(epoch FROM at) * 1000000)::bigint, "
        "(extract(epoch FROM since) * 1000000)::bigint, check_id, reason, cause, previous_cause, "
        "error_detail, locations::text, to_jsonb(previous_locations)::text FROM site_events WHERE id > $1 AND "
        "kind = 'site' ORDER BY id LIMIT $2",
        2, nullptr, p, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        log_.warn("{}: reading site_events after id {}: {}", host_, read_, chomp(PQresultErrorMessage(r.get())));
        return std::nullopt;
    }
    std::vector<Record> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        SiteEvent e;
        e.id = std::stoll(PQgetvalue(r.get(), i, 0));
        e.site = PQgetvalue(r.get(), i, 1);
        e.url = PQgetvalue(r.get(), i, 2);
        e.from = PQgetvalue(r.get(), i, 3);
        e.to = PQgetvalue(r.get(), i, 4);
        e.at = micros(r.get(), i, 5);
        e.since = micros(r.get(), i, 6);
        e.check_id = PQgetvalue(r.get(), i, 7);
        e.reason = PQgetvalue(r.get(), i, 8);
        e.cause = text_or_null(r.get(), i, 9);
        e.previous_cause = text_or_null(r.get(), i, 10);
        e.error_detail = text_or_null(r.get(), i, 11);
        auto origin = fmt::format("site_events id={}", e.id);
        read_locations(r.get(), i, 12, e, origin);
        std::string error;
        e.previous_locations = pg::names_from_json(PQgetvalue(r.get(), i, 13), error);
        if (!error.empty()) {
            log_.warn("{}: {}: previous_locations: {}", host_, origin, error);
        }
        out.push_back(to_record(std::move(e), std::move(origin)));
    }
    return out;
}

std::optional<std::vector<Record>> PgEvents::read_states() {
    Result r(
        PQexec(conn_.get(),
               "SELECT site, url, state, (extract(epoch FROM since) * 1000000)::bigint, cause, "
               "coalesce(last_check_id, ''), (extract(epoch FROM coalesce(last_timestamp, since)) * 1000000)::bigint, "
               "last_error_detail, locations::text FROM site_state WHERE state <> 'up' ORDER BY site"));
    if (!ok(r.get())) {
        log_.warn("{}: reading site_state: {}", host_, chomp(PQresultErrorMessage(r.get())));
        return std::nullopt;
    }
    std::vector<Record> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
        SiteEvent e;
        e.site = PQgetvalue(r.get(), i, 0);
        e.url = PQgetvalue(r.get(), i, 1);
        e.from = e.to = PQgetvalue(r.get(), i, 2);
        e.since = micros(r.get(), i, 3);
        e.cause = e.previous_cause = text_or_null(r.get(), i, 4);
        e.check_id = PQgetvalue(r.get(), i, 5);
        e.at = micros(r.get(), i, 6);
        e.error_detail = text_or_null(r.get(), i, 7);
        e.reason = fmt::format("{} since {}", e.to, format_timestamp(e.since));
        auto origin = fmt::format("site_state site={}", e.site);
        read_locations(r.get(), i, 8, e, origin);
        for (const auto& n : e.locations) {
            e.previous_locations.push_back(n.location);
        }
        out.push_back(to_record(std::move(e), std::move(origin)));
    }
    return out;
}

bool PgEvents::emit(Emitter& out, std::vector<Record> records, std::int64_t last_id) {
    Batch batch;
    batch.records = std::move(records);
    {
        Lock lock(mutex_);
        ++outstanding_;
    }
    bool accepted = out.emit(std::move(batch), [this, last_id](AckStatus status) {
        Lock lock(mutex_);
        --outstanding_;
        // Acknowledgements come in emission order; after an undelivered batch (the pipeline
        // stopped) nothing later may move the cursor past it.
        if (status == AckStatus::Delivered && acked_ != std::numeric_limits<std::int64_t>::min()) {
            acked_ = std::max(acked_, last_id);
        } else if (status != AckStatus::Delivered) {
            acked_ = std::numeric_limits<std::int64_t>::min();
        }
        acked_cv_.notify_all();
    });
    if (!accepted) {
        Lock lock(mutex_);
        --outstanding_;
    }
    return accepted;
}

bool PgEvents::save_cursor() {
    std::int64_t to = 0;
    {
        Lock lock(mutex_);
        to = acked_;
    }
    if (conn_ == nullptr || to <= saved_) {
        return true;
    }
    auto value = std::to_string(to);
    const char* p[] = {config_.cursor.c_str(), value.c_str()};
    Result r(PQexecParams(conn_.get(),
                          "UPDATE site_events_cursors SET last_id = $2, updated_at = now() WHERE name = $1 AND "
                          "last_id < $2",
                          2, nullptr, p, nullptr, nullptr, 0));
    if (!ok(r.get())) {
        log_.warn("{}: moving cursor \"{}\" to {}: {}", host_, config_.cursor, to,
                  chomp(PQresultErrorMessage(r.get())));
        return false;
    }
    saved_ = to;
    cursor_.set(static_cast<double>(to));
    return true;
}

void PgEvents::wait(const StopToken& stop, Duration d) {
    auto deadline = Clock::now() + d;
    while (!stop.stop_requested() && Clock::now() < deadline && conn_ != nullptr) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
        // Short slices: a stop, and acknowledgements to store, are seen within 100 ms.
        int n = ::poll(&fd, 1, static_cast<int>(std::clamp<long long>(left, 0, 100)));
        if (n > 0) {
            if (PQconsumeInput(conn_.get()) == 0) {
                log_.warn("{}: connection lost: {}", host_, chomp(PQerrorMessage(conn_.get())));
                disconnect();
                return;
            }
            bool notified = false;
            while (PGnotify* note = PQnotifies(conn_.get())) {
                notified = true;
                PQfreemem(note);
            }
            if (notified) {
                return;
            }
        }
        if (!save_cursor()) {
            disconnect();
            return;
        }
    }
}

void PgEvents::await_acks(Duration d) {
    Lock lock(mutex_);
    acked_cv_.wait_for(lock.native(), d, [&]() VIGIL_REQUIRES(mutex_) { return outstanding_ == 0; });
}

Status PgEvents::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    auto next_refresh = Clock::now();
    Duration backoff = std::chrono::seconds(1);
    bool was_standby = false;
    bool read_all = false;
    while (!stop.stop_requested() && !read_all) {
        if (conn_ == nullptr) {
            bool standby = false;
            if (auto st = connect(standby); !st.ok()) {
                if (options.once && !standby) {
                    return st;
                }
                if (standby) {
                    standby_polls_.inc();
                }
                if (standby && !was_standby) {
                    log_.info("{}; standing by", st.message());
                } else if (!standby) {
                    log_.warn("{}; retrying in {}", st.message(), format_duration(backoff));
                }
                was_standby = standby;
                stop.wait_for(standby ? config_.poll_interval : backoff);
                backoff = standby ? backoff : std::min<Duration>(backoff * 2, std::chrono::seconds(30));
                continue;
            }
            backoff = std::chrono::seconds(1);
            was_standby = false;
            next_refresh = Clock::now();  // a new reader re-sends what lasts before what changed
        }
        if (!save_cursor()) {
            disconnect();
            continue;
        }
        if (config_.refresh.count() > 0 && Clock::now() >= next_refresh) {
            auto states = read_states();
            if (!states) {
                disconnect();
                continue;
            }
            for (std::size_t at = 0; at < states->size(); at += config_.batch_size) {
                auto end = std::min(states->size(), at + config_.batch_size);
                std::vector<Record> part(std::make_move_iterator(states->begin() + static_cast<long>(at)),
                                         std::make_move_iterator(states->begin() + static_cast<long>(end)));
                if (!emit(out, std::move(part), read_)) {
                    break;
                }
                refreshed_.inc(end - at);
            }
            next_refresh = Clock::now() + config_.refresh;
        }
        auto events = read_events();
        if (!events) {
            disconnect();
            continue;
        }
        bool more = events->size() == config_.batch_size;
        if (!events->empty()) {
            auto last = events->back().event->id;
            auto n = events->size();
            if (!emit(out, std::move(*events), last)) {
                break;
            }
            read_ = last;
            events_.inc(n);
        }
        if (options.once && !more) {
            read_all = true;
        } else if (!more) {
            auto until_refresh = config_.refresh.count() > 0
                                     ? std::chrono::duration_cast<Duration>(next_refresh - Clock::now())
                                     : config_.poll_interval;
            wait(stop, std::clamp(until_refresh, Duration::zero(), config_.poll_interval));
        }
    }
    // What was emitted is usually acknowledged within moments: store it now rather than read it
    // again at the next start. What is not acknowledged by then is read again, as promised.
    await_acks(options.once ? std::chrono::seconds(30) : std::chrono::seconds(5));
    save_cursor();
    disconnect();
    return Status::success();
}

Status PgEvents::healthcheck() {
    // Reachable, with its tables: nothing is migrated, locked or created by a check.
    auto st = open();
    disconnect();
    return st;
}

}  // namespace vigil::plugins::pg_events
