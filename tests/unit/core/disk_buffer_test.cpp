// SPDX-License-Identifier: Apache-2.0
// The disk buffer's promises, in process with the counting source and a sink that goes down and
// up on command: the source is acknowledged once a batch is stored and keeps going while the
// sink is down; each sink gets everything, in order, and a restart replays exactly what it had
// not acknowledged; a full buffer blocks or drops (counted exactly); damage is detected and
// never crashes; a write that fails acknowledges nothing and recovers by itself.
#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "pipeline/buffer/disk_buffer.hpp"
#include "pipeline/buffer/lmdb_env.hpp"
#include "pipeline/buffer/stored_record.hpp"
#include "pipeline/pipeline.hpp"
#include "support.hpp"
#include "testkit.hpp"

using namespace std::chrono_literals;
using vigil::AckStatus;
using vigil::pipeline::BufferOptions;
using vigil::pipeline::Pipeline;
using vigil::pipeline::PipelineOptions;
using vigil::pipeline::SinkSlot;
using vigil::test::wait_until;
using vigil::testkit::CountingSource;
using vigil::testkit::FlakySink;

namespace {

PipelineOptions disk_options(const std::string& name, const std::filesystem::path& path,
                             std::uint64_t max_size = 64ull << 20,
                             BufferOptions::WhenFull when_full = BufferOptions::WhenFull::Block) {
    PipelineOptions o;
    o.name = name;
    o.max_in_flight = 4;
    o.drain_timeout = 5s;
    o.random = [] { return 0.5; };
    o.buffer.type = BufferOptions::Type::Disk;
    o.buffer.path = path;
    o.buffer.max_size = max_size;
    o.buffer.when_full = when_full;
    return o;
}

SinkSlot slot(const std::string& name, std::unique_ptr<FlakySink> sink) {
    return SinkSlot{name, std::move(sink), {1ms, 20ms, 0}};
}

// The sink "a" (down if asked, until set_down(false)), as a pipeline's only sink; `out` points
// at it for as long as the pipeline lives.
std::vector<SinkSlot> one_sink(FlakySink*& out, bool down = false) {
    auto sink = std::make_unique<FlakySink>(0, 0, 0s, false);
    out = sink.get();
    out->set_down(down);
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("a", std::move(sink)));
    return sinks;
}

double buffered(const std::string& pipeline) {
    return vigil::gauge("vigil_buffer_records", {{"pipeline", pipeline}}).value();
}
std::uint64_t dropped(const std::string& pipeline, const char* reason) {
    return vigil::counter("vigil_buffer_dropped_records_total", {{"pipeline", pipeline}, {"reason", reason}}).value();
}
std::size_t acked(const CountingSource& s) {
    std::size_t n = 0;
    for (const auto& a : s.acks()) {
        n += a.status == AckStatus::Delivered ? a.size : 0;
    }
    return n;
}
// A source with nothing to say: the buffer's replay is all the sinks get.
class IdleSource final : public vigil::Source {
  public:
    vigil::Status run(vigil::Emitter&, const vigil::StopToken& stop, const vigil::RunOptions&) override {
        while (!stop.wait_for(1s)) {
        }
        return vigil::Status::success();
    }
};

std::set<std::uint64_t> unique(const std::vector<std::uint64_t>& ids) { return {ids.begin(), ids.end()}; }

// A pipeline running on a thread of its own.
class Running {
  public:
    Running(PipelineOptions o, vigil::Source& source, std::vector<SinkSlot> sinks)
        : pipeline_(std::move(o), "counting_source.0", source, std::move(sinks)) {
        thread_ = std::thread([this] { result_ = pipeline_.run(); });
    }
    ~Running() {
        if (thread_.joinable()) {
            stop();
        }
    }
    vigil::pipeline::RunResult stop() {
        pipeline_.request_stop();
        thread_.join();
        return result_;
    }

  private:
    Pipeline pipeline_;
    vigil::pipeline::RunResult result_;
    std::thread thread_;
};

// Runs `count` records into the buffer at `path` while the sink `name` is down, then stops.
void fill_while_down(const std::filesystem::path& path, const std::string& pipeline, std::int64_t count) {
    CountingSource source(count, 100, 0s, "site");
    FlakySink* s = nullptr;
    Running run(disk_options(pipeline, path), source, one_sink(s, true));
    REQUIRE(wait_until([&] { return acked(source) == static_cast<std::size_t>(count); }));
    auto result = run.stop();
    CHECK(result.records_buffered == static_cast<std::uint64_t>(count));
}

}  // namespace

TEST_CASE("disk buffer: the source is acknowledged once a batch is stored and goes on while the sink is down",
          "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    CountingSource source(2000, 10, 0s, "site");
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(disk_options("buf-down", dir / "buffer"), source, std::move(sinks));

    // 200 batches against max_in_flight 4: a memory pipeline would hold the source at 4.
    REQUIRE(wait_until([&] { return acked(source) == 2000; }));
    CHECK(s->committed_count() == 0);
    CHECK(buffered("buf-down") == 2000);
    CHECK(wait_until([&] { return vigil::gauge("vigil_sink_up", {{"instance", "a"}}).value() == 0; }));

    s->set_down(false);
    REQUIRE(wait_until([&] { return s->committed_count() == 2000 && buffered("buf-down") == 0; }));
    auto ids = s->accepted();
    CHECK(ids.size() == 2000);  // each once: nothing was re-sent without a restart
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    auto result = run.stop();
    CHECK(result.ok);
    CHECK(result.records_buffered == 0);
}

TEST_CASE("disk buffer: a restart replays exactly what the sink had not acknowledged", "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    fill_while_down(dir / "buffer", "buf-replay-1", 1000);

    // Second run: the same sink (by name) is up; the source emits nothing new.
    IdleSource none;
    FlakySink* s = nullptr;
    auto sinks = one_sink(s);
    {
        Running run(disk_options("buf-replay-2", dir / "buffer"), none, std::move(sinks));
        REQUIRE(wait_until([&] { return s->committed_count() == 1000 && buffered("buf-replay-2") == 0; }));
        CHECK(run.stop().records_buffered == 0);
        CHECK(s->accepted().size() == 1000);  // before the pipeline and its sink are gone
    }

    // Third run: nothing is left to replay.
    IdleSource none2;
    FlakySink* s2 = nullptr;
    Running run(disk_options("buf-replay-3", dir / "buffer"), none2, one_sink(s2));
    CHECK(run.stop().records_buffered == 0);
    CHECK(s2->accepted().empty());
}

TEST_CASE("disk buffer: a record leaves the buffer only when every sink has it", "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    CountingSource source(500, 50, 0s, "site");
    auto fast = std::make_unique<FlakySink>(0, 0, 0s, false);
    auto slow = std::make_unique<FlakySink>(0, 0, 0s, false);
    FlakySink* f = fast.get();
    FlakySink* s = slow.get();
    s->set_down(true);
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("fast", std::move(fast)));
    sinks.push_back(slot("slow", std::move(slow)));
    Running run(disk_options("buf-two", dir / "buffer"), source, std::move(sinks));
    REQUIRE(wait_until([&] { return f->committed_count() == 500; }));
    CHECK(buffered("buf-two") == 500);  // the slow sink has none yet
    s->set_down(false);
    REQUIRE(wait_until([&] { return s->committed_count() == 500 && buffered("buf-two") == 0; }));
    CHECK(f->accepted().size() == 500);
    CHECK(s->accepted().size() == 500);
}

TEST_CASE("disk buffer: when_full block holds the source back and loses nothing", "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    CountingSource source(0, 100, 0s, "site");  // as fast as it can, until stopped
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(disk_options("buf-block", dir / "buffer", vigil::pipeline::kMinBufferSize), source, std::move(sinks));
    auto& full = vigil::gauge("vigil_buffer_full", {{"pipeline", "buf-block"}});
    REQUIRE(wait_until([&] { return full.value() == 1; }));
    auto held = acked(source);
    // Full: the four batches in flight wait for room unacknowledged, and the source is held in
    // emit() with a fifth.
    REQUIRE(wait_until([&] { return source.emitted() >= held + 5 * 100; }));
    CHECK(source.emitted() == held + 5 * 100);
    CHECK(acked(source) == held);
    s->set_down(false);
    REQUIRE(wait_until([&] { return acked(source) > held + 1000; }));
    auto result = run.stop();
    CHECK(dropped("buf-block", "full") == 0);
    // Every acknowledged record reached the sink or is still stored for the next start.
    auto got = unique(s->accepted());
    CHECK(got.size() + result.records_buffered >= acked(source));
}

TEST_CASE("disk buffer: when_full drop_oldest counts exactly the records it drops and never delivers one",
          "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    const std::int64_t total = 40000;
    CountingSource source(total, 100, 0s, "site");
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(
        disk_options("buf-drop", dir / "buffer", vigil::pipeline::kMinBufferSize, BufferOptions::WhenFull::DropOldest),
        source, std::move(sinks));
    // Never blocked: every batch is acknowledged although 40,000 records do not fit.
    REQUIRE(wait_until([&] { return acked(source) == static_cast<std::size_t>(total); }, 30s));
    auto lost = dropped("buf-drop", "full");
    CHECK(lost > 0);
    s->set_down(false);
    REQUIRE(wait_until([&] { return buffered("buf-drop") == 0; }, 30s));
    auto ids = s->accepted();
    auto got = unique(ids);
    CHECK(ids.size() == got.size());
    CHECK(got.size() + lost == static_cast<std::size_t>(total));
    // The newest survive: the last record emitted is among those delivered.
    CHECK(got.count(static_cast<std::uint64_t>(total - 1)) == 1);
    CHECK(run.stop().ok);
}

TEST_CASE("disk buffer: a damaged record is skipped, counted and logged; the rest arrive", "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    fill_while_down(dir / "buffer", "buf-crc-1", 1000);
    // Flip one byte of record 517's JSON inside the store file.
    auto data = dir / "buffer" / "data.mdb";
    std::string bytes = vigil::test::read_file(data);
    // Every copy: LMDB's copy-on-write leaves older versions of a page in free pages.
    const std::string needle = "\"name\":\"site-517\"";
    std::size_t copies = 0;
    for (auto at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + 1)) {
        bytes[at + 13] = 'X';
        ++copies;
    }
    REQUIRE(copies > 0);
    {
        std::ofstream out(data, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    IdleSource none;
    FlakySink* s = nullptr;
    auto sinks = one_sink(s);
    Running run(disk_options("buf-crc-2", dir / "buffer"), none, std::move(sinks));
    REQUIRE(wait_until([&] { return s->committed_count() == 999 && buffered("buf-crc-2") == 0; }));
    auto got = unique(s->accepted());
    CHECK(got.size() == 999);
    CHECK(got.count(517) == 0);
    CHECK(dropped("buf-crc-2", "corrupt") == 1);
    CHECK(run.stop().ok);
}

TEST_CASE("disk buffer: a truncated store is moved aside and the pipeline starts with an empty one",
          "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    fill_while_down(dir / "buffer", "buf-trunc-1", 3000);
    auto data = dir / "buffer" / "data.mdb";
    std::filesystem::resize_file(data, std::filesystem::file_size(data) / 2);

    CountingSource source(100, 10, 0s, "site");
    FlakySink* s = nullptr;
    auto sinks = one_sink(s);
    Running run(disk_options("buf-trunc-2", dir / "buffer"), source, std::move(sinks));
    REQUIRE(wait_until([&] { return s->committed_count() == 100 && buffered("buf-trunc-2") == 0; }));
    CHECK(run.stop().ok);
    bool aside = false;
    for (const auto& e : std::filesystem::directory_iterator(dir / "buffer")) {
        aside = aside || e.path().filename().string().rfind("data.mdb.damaged-", 0) == 0;
    }
    CHECK(aside);
    CHECK(vigil::counter("vigil_buffer_damaged_total", {{"pipeline", "buf-trunc-2"}}).value() == 1);
}

TEST_CASE("disk buffer: a second user of the same directory is refused, naming it", "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    BufferOptions o;
    o.type = BufferOptions::Type::Disk;
    o.path = dir / "buffer";
    o.max_size = 8 << 20;
    auto nothing = [](std::size_t, std::shared_ptr<const vigil::Batch>) {};
    auto ignore = [](std::uint64_t, bool) {};
    vigil::pipeline::buffer::DiskBuffer first("one", o, {"a"}, {}, nothing, ignore);
    REQUIRE(first.open().ok());
    vigil::pipeline::buffer::DiskBuffer second("two", o, {"a"}, {}, nothing, ignore);
    auto st = second.open();
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "buffer " + o.path.string() + " is in use by another agent (pid " +
                              std::to_string(::getpid()) + "); give each pipeline a buffer of its own");
    first.close();
    CHECK(second.open().ok());
}

TEST_CASE("disk buffer: a write that fails acknowledges nothing, and the buffer recovers by itself",
          "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    // A file-size limit makes every write that grows the store fail (EFBIG), as a full disk
    // does; unlike a full disk it can be lifted from inside the test.
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    CountingSource source(0, 100, 2ms, "site");
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(disk_options("buf-efbig", dir / "buffer"), source, std::move(sinks));
    REQUIRE(wait_until([&] { return acked(source) >= 1000; }));
    auto& errors = vigil::counter("vigil_buffer_write_errors_total", {{"pipeline", "buf-efbig"}});
    rlimit capped = saved;
    capped.rlim_cur = std::filesystem::file_size(dir / "buffer" / "data.mdb");
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
    REQUIRE(wait_until([&] { return errors.value() >= 1; }));
    auto held = acked(source);
    auto before = errors.value();
    REQUIRE(wait_until([&] { return errors.value() >= before + 2; }));  // two more failed retries
    CHECK(acked(source) == held);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &saved) == 0);
    REQUIRE(wait_until([&] { return acked(source) > held + 500; }));
    s->set_down(false);
    auto result = run.stop();
    // Every acknowledged record is delivered or stays stored.
    CHECK(unique(s->accepted()).size() + result.records_buffered >= acked(source));
}

TEST_CASE("disk buffer: stored records round-trip, and damage of any kind is a reason, never a crash",
          "[unit][buffer]") {
    using namespace vigil::pipeline::buffer;
    vigil::Record r;
    r.check.name = "example";
    r.check.url = "https://example.com/";
    r.check.response_time = 12.5;
    r.check.status_code = 200;
    r.check.check_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    r.check.timestamp = vigil::Timestamp(std::chrono::seconds(1'700'000'000));
    r.origin = "topic=t partition=1 offset=7";
    auto at = vigil::Timestamp(std::chrono::microseconds(1'700'000'123'456));
    std::string v;
    encode_stored(r, at, v);
    auto back = decode_stored(v);
    REQUIRE(back.record);
    CHECK(back.record->check == r.check);
    CHECK(back.record->origin == r.origin);
    CHECK(back.stored_at == at);
    CHECK(stored_at(v) == at);

    CHECK(decode_stored(std::string_view(v).substr(0, 10)).error == "10 bytes, shorter than a record's header");
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto damaged = v;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
        auto d = decode_stored(damaged);
        CHECK_FALSE(d.record);
        CHECK(d.error.rfind("checksum mismatch", 0) == 0);
    }
    for (std::size_t n = 0; n < v.size(); ++n) {
        CHECK_FALSE(decode_stored(std::string_view(v).substr(0, n)).record);
    }
}

TEST_CASE("disk buffer: a record of the alerts pipeline is stored with its site event (format 2)",
          "[unit][pipeline][buffer]") {
    using namespace vigil::pipeline::buffer;
    vigil::Record r;
    r.check.name = "shop";
    r.check.check_id = "c3";
    r.origin = "site_events id=9";
    vigil::SiteEvent e;
    e.id = 9;
    e.site = "shop";
    e.from = "up";
    e.to = "down";
    e.at = vigil::Timestamp(std::chrono::microseconds(1'700'000'123'456));
    e.reason = "3 failed checks in a row: timeout";
    e.cause = "timeout";
    r.event = e;
    auto at = vigil::Timestamp(std::chrono::microseconds(1'700'000'999'000));
    std::string v;
    encode_stored(r, at, v);
    CHECK(static_cast<unsigned char>(v[4]) == 2);
    auto back = decode_stored(v);
    INFO(back.error);
    REQUIRE(back.record);
    CHECK(back.record->check == r.check);
    REQUIRE(back.record->event);
    CHECK(*back.record->event == e);
    CHECK(stored_at(v) == at);
    for (std::size_t n = 0; n < v.size(); ++n) {
        CHECK_FALSE(decode_stored(std::string_view(v).substr(0, n)).record);
    }
    // A record without an event is still written as format 1.
    r.event.reset();
    v.clear();
    encode_stored(r, at, v);
    CHECK(static_cast<unsigned char>(v[4]) == 1);
    CHECK_FALSE(decode_stored(v).record->event);
}

namespace {
// Emits `small` records of the usual size, then large ones (a 3 KiB error_detail each: LMDB
// gives each its own overflow pages), numbered from 0, until stopped.
class MixedSource final : public vigil::Source {
  public:
    explicit MixedSource(std::uint64_t small) : small_(small) {}
    vigil::Status run(vigil::Emitter& out, const vigil::StopToken& stop, const vigil::RunOptions&) override {
        std::uint64_t n = 0;
        while (!stop.stop_requested()) {
            vigil::Batch b;
            for (int i = 0; i < 50; ++i, ++n) {
                vigil::CheckRecord r;
                r.name = "site-" + std::to_string(n);
                r.url = "http://127.0.0.1/";
                r.check_id = std::to_string(n);
                if (n >= small_) {
                    r.error_detail = std::string(3072, 'x');
                }
                b.records.push_back({r, {}});
            }
            if (!out.emit(std::move(b), [this](AckStatus s) {
                    if (s == AckStatus::Delivered) {
                        acked_ += 50;
                    }
                })) {
                break;
            }
        }
        return vigil::Status::success();
    }
    std::uint64_t acked() const { return acked_.load(); }

  private:
    std::uint64_t small_;
    std::atomic<std::uint64_t> acked_{0};
};
}  // namespace

TEST_CASE("disk buffer: records far larger than its estimate fill the file first; it holds, then recovers",
          "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    MixedSource source(3000);
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(disk_options("buf-mixed", dir / "buffer", vigil::pipeline::kMinBufferSize), source, std::move(sinks));
    auto& full = vigil::gauge("vigil_buffer_full", {{"pipeline", "buf-mixed"}});
    REQUIRE(wait_until([&] { return full.value() == 1 && source.acked() > 3000; }));
    auto held = source.acked();
    s->set_down(false);
    // Room is freed first, then the source goes on: nothing lost, nothing stuck.
    REQUIRE(wait_until([&] { return source.acked() > held + 2000; }));
    auto result = run.stop();
    CHECK(unique(s->accepted()).size() + result.records_buffered >= source.acked());
    CHECK(dropped("buf-mixed", "full") == 0);
}

TEST_CASE(
    "disk buffer: with drop_oldest, records far larger than its estimate never stall it, and every record "
    "is delivered, counted as dropped, or still stored",
    "[unit][pipeline][buffer]") {
    vigil::test::TempDir dir;
    MixedSource source(3000);
    FlakySink* s = nullptr;
    auto sinks = one_sink(s, true);
    Running run(disk_options("buf-mixed-drop", dir / "buffer", vigil::pipeline::kMinBufferSize,
                             BufferOptions::WhenFull::DropOldest),
                source, std::move(sinks));
    REQUIRE(wait_until([&] { return source.acked() > 20000; }, 30s));  // 4 MiB hold ~1,000 large ones
    s->set_down(false);
    auto now = source.acked();
    REQUIRE(wait_until([&] { return source.acked() > now + 5000; }, 30s));
    auto result = run.stop();
    auto ids = s->accepted();
    CHECK(unique(ids).size() == ids.size());
    CHECK(ids.size() + dropped("buf-mixed-drop", "full") + result.records_buffered == source.acked());
}

TEST_CASE("disk buffer: a store whose map is full grows, the transaction that met the limit aborted first",
          "[unit][pipeline][buffer]") {
    using vigil::pipeline::buffer::LmdbEnv;
    using vigil::pipeline::buffer::Txn;
    vigil::test::TempDir dir;
    LmdbEnv env;
    REQUIRE(env.open(dir.path(), 1u << 20).ok());
    std::string value(4096, 'x');
    Txn txn(env, false);
    REQUIRE(txn.begin_rc() == 0);
    int rc = 0;
    for (std::uint64_t id = 0; rc == 0 && id < 100000; ++id) {
        MDB_val key{sizeof id, &id};
        MDB_val val{value.size(), value.data()};
        rc = mdb_put(txn.get(), env.records(), &key, &val, 0);
    }
    REQUIRE(rc == MDB_MAP_FULL);
    auto before = env.map_size();
    // LMDB refuses a new size while a write transaction is open (EINVAL): the buffer used to
    // ignore that, log that its file "may grow", and stay stuck.
    auto st = env.grow(txn, 8u << 20);
    REQUIRE(st.ok());
    CHECK(env.map_size() == before + (8u << 20));
    Txn again(env, false);
    REQUIRE(again.begin_rc() == 0);
    for (std::uint64_t id = 0; id < 300; ++id) {
        MDB_val key{sizeof id, &id};
        MDB_val val{value.size(), value.data()};
        REQUIRE(mdb_put(again.get(), env.records(), &key, &val, 0) == 0);
    }
    CHECK(again.commit() == 0);
}
