// SPDX-License-Identifier: Apache-2.0
// The pipeline's promises, with the in-process counting source and flaky/slow/stalled sinks:
// no loss, no ack before durability, acks in order, bounded memory, clean shutdown.
#include <catch2/catch.hpp>

#include <filesystem>
#include <future>

#include "pipeline/pipeline.hpp"
#include "support.hpp"
#include "testkit.hpp"

using namespace std::chrono_literals;
using vigil::AckStatus;
using vigil::pipeline::Pipeline;
using vigil::pipeline::PipelineOptions;
using vigil::pipeline::SinkSlot;
using vigil::pipeline::SourceSlot;
using vigil::test::wait_until;
using vigil::testkit::CountingSource;
using vigil::testkit::FlakySink;

namespace {
PipelineOptions options(std::size_t in_flight = 8, vigil::Duration drain = 10s) {
    PipelineOptions o;
    o.name = "test";
    o.max_in_flight = in_flight;
    o.drain_timeout = drain;
    o.random = [] { return 0.5; };
    return o;
}
SinkSlot slot(const std::string& name, std::unique_ptr<FlakySink> sink) {
    return SinkSlot{name, std::move(sink), {1ms, 5ms, 0}};
}
// Runs `source` once into a single sink with dead letters going to a file; returns the letters.
std::vector<std::string> run_once_with_dead_letters(CountingSource& source, SinkSlot sink) {
    vigil::test::TempDir dir;
    std::vector<SinkSlot> sinks;
    sinks.push_back(std::move(sink));
    auto o = options();
    o.once = true;
    o.dead_letter.file = dir / "dead.jsonl";
    Pipeline p(o, "src", source, std::move(sinks));
    auto result = p.run();
    CHECK(result.ok);
    return vigil::test::read_lines(dir / "dead.jsonl");
}
std::size_t acked(const CountingSource& s, AckStatus want) {
    std::size_t n = 0;
    for (const auto& a : s.acks()) {
        n += a.status == want ? a.size : 0;
    }
    return n;
}
}  // namespace

TEST_CASE("pipeline: every record reaches every sink and is acked once, in order, after durability",
          "[unit][pipeline]") {
    CountingSource source(1000, 10, 0s, "site");
    auto a = std::make_unique<FlakySink>(3, 0, 0s, false);  // three transient failures first
    auto b = std::make_unique<FlakySink>(0, 0, 1ms, false);
    FlakySink* sa = a.get();
    FlakySink* sb = b.get();
    std::atomic<int> early_acks{0};
    source.on_ack_hook = [&](std::uint64_t first, std::size_t size, AckStatus) {
        for (auto id = first; id < first + size; ++id) {
            if (!sa->committed(id) || !sb->committed(id)) {
                ++early_acks;
            }
        }
    };
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("a", std::move(a)));
    sinks.push_back(slot("b", std::move(b)));
    auto o = options();
    o.once = true;
    Pipeline p(o, "counting_source.0", source, std::move(sinks));
    auto result = p.run();

    CHECK(result.ok);
    CHECK(result.records_delivered == 1000);
    CHECK(early_acks == 0);
    auto acks = source.acks();
    REQUIRE(acks.size() == 100);
    for (std::size_t i = 0; i < acks.size(); ++i) {
        CHECK(acks[i].first == i * 10);  // in emission order, each exactly once
        CHECK(acks[i].status == AckStatus::Delivered);
    }
    CHECK(sa->committed_count() == 1000);
    CHECK(sb->committed_count() == 1000);
    CHECK(sa->writes() == 103);  // 100 batches + 3 retried failures
    CHECK(sa->stopped());
}

TEST_CASE("pipeline: records refused for good are dead-lettered and the stream moves on", "[unit][pipeline]") {
    CountingSource source(100, 10, 0s, "site");
    auto lines = run_once_with_dead_letters(source, slot("picky", std::make_unique<FlakySink>(0, 10, 0s, false)));
    CHECK(acked(source, AckStatus::Delivered) == 100);
    REQUIRE(lines.size() == 10);
    CHECK(lines[0].find(R"("sink":"picky","reason":"record 9 is unacceptable")") != std::string::npos);
    CHECK(lines[0].find(R"("record":{"name":"site-9")") != std::string::npos);
}

TEST_CASE("pipeline: a stalled sink bounds memory and the drain deadline abandons, never acks", "[unit][pipeline]") {
    CountingSource source(0, 10, 0s, "site");  // endless
    auto stalled = std::make_unique<FlakySink>(0, 0, 0s, true);
    FlakySink* s = stalled.get();
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("stalled", std::move(stalled)));
    Pipeline p(options(4, 200ms), "src", source, std::move(sinks));
    auto run = std::async(std::launch::async, [&] { return p.run(); });

    // Four batches in flight, the fifth blocked in emit(): nothing more is produced or buffered.
    REQUIRE(wait_until([&] { return p.in_flight() == 4 && source.emitted() == 50 && s->in_write(); }));
    CHECK(source.acks().empty());

    p.request_stop();
    auto result = run.get();
    CHECK_FALSE(result.ok);
    CHECK(result.batches_undelivered == 4);
    CHECK(source.emitted() == 40);  // the blocked fifth batch was refused, not half-accepted
    auto acks = source.acks();
    REQUIRE(acks.size() == 4);
    for (const auto& a : acks) {
        CHECK(a.status == AckStatus::Undelivered);
    }
    CHECK(s->committed_count() == 0);
}

TEST_CASE("pipeline: stop drains in-flight batches through a slow sink before returning", "[unit][pipeline]") {
    CountingSource source(0, 5, 0s, "site");
    auto slow = std::make_unique<FlakySink>(0, 0, 20ms, false);
    FlakySink* s = slow.get();
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("slow", std::move(slow)));
    Pipeline p(options(8, 10s), "src", source, std::move(sinks));
    auto run = std::async(std::launch::async, [&] { return p.run(); });
    REQUIRE(wait_until([&] { return source.acks().size() >= 3 && p.in_flight() > 0; }));
    p.request_stop();
    auto result = run.get();
    CHECK(result.ok);
    CHECK(result.batches_undelivered == 0);
    CHECK(acked(source, AckStatus::Delivered) == source.emitted());
    CHECK(s->committed_count() == source.emitted());
    CHECK(s->stopped());
}

namespace {
class ThrowingSink final : public vigil::Sink {
  public:
    vigil::WriteResult write(const vigil::Batch& b) override {
        if (calls++ == 0) {
            throw std::runtime_error("connection object exploded");
        }
        records += b.records.size();
        return vigil::WriteResult::accepted();
    }
    std::atomic<int> calls{0};
    std::atomic<std::size_t> records{0};
};
class FailingSource final : public vigil::Source {
  public:
    vigil::Status run(vigil::Emitter&, const vigil::StopToken&, const vigil::RunOptions&) override {
        return vigil::Status::error("src: cannot reach the broker: connection refused");
    }
};
}  // namespace

TEST_CASE("pipeline: a sink that throws is retried, not fatal", "[unit][pipeline]") {
    CountingSource source(20, 10, 0s, "site");
    auto sink = std::make_unique<ThrowingSink>();
    ThrowingSink* t = sink.get();
    std::vector<SinkSlot> sinks;
    sinks.push_back(SinkSlot{"thrower", std::move(sink), {1ms, 1ms, 0}});
    auto o = options();
    o.once = true;
    Pipeline p(o, "src", source, std::move(sinks));
    auto result = p.run();
    CHECK(result.ok);
    CHECK(t->records == 20);
    CHECK(t->calls == 3);
}

TEST_CASE("pipeline: with max_attempts a batch is dead-lettered after the last failure", "[unit][pipeline]") {
    CountingSource source(10, 10, 0s, "site");
    auto lines = run_once_with_dead_letters(
        source, SinkSlot{"down", std::make_unique<FlakySink>(1000, 0, 0s, false), {1ms, 1ms, 3}});
    CHECK(acked(source, AckStatus::Delivered) == 10);
    REQUIRE(lines.size() == 10);
    CHECK(lines[0].find("gave up after retries: flaky_sink: simulated failure 3") != std::string::npos);
}

TEST_CASE("pipeline: a failing source fails the run with its message", "[unit][pipeline]") {
    FailingSource source;
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("s", std::make_unique<FlakySink>(0, 0, 0s, false)));
    Pipeline p(options(), "src", source, std::move(sinks));
    auto result = p.run();
    CHECK_FALSE(result.ok);
    CHECK(result.error == "src: cannot reach the broker: connection refused");
}

TEST_CASE("pipeline: a sink asking for batching gets queued batches merged, each acked once, in order",
          "[unit][pipeline]") {
    CountingSource source(1000, 10, 0s, "site");
    // Slow writes let batches queue up; every 7th record is refused for good.
    auto sink = std::make_unique<FlakySink>(0, 7, 5ms, false, "", vigil::Batching{100, 20ms});
    FlakySink* s = sink.get();
    vigil::test::TempDir dir;
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("merging", std::move(sink)));
    auto o = options(16);
    o.once = true;
    o.dead_letter.file = dir / "dead.jsonl";
    Pipeline p(o, "counting_source.0", source, std::move(sinks));
    auto result = p.run();
    CHECK(result.ok);
    auto acks = source.acks();
    REQUIRE(acks.size() == 100);
    for (std::size_t i = 0; i < acks.size(); ++i) {
        CHECK(acks[i].first == i * 10);
        CHECK(acks[i].status == AckStatus::Delivered);
    }
    CHECK(s->writes() <= 20);  // merged: at most 100 records a write, so at least 10 writes
    CHECK(s->writes() >= 10);
    CHECK(s->committed_count() + vigil::test::read_lines(dir / "dead.jsonl").size() == 1000);
    CHECK(vigil::test::read_lines(dir / "dead.jsonl").size() == 1000 / 7);
}

TEST_CASE("metrics: a histogram renders cumulative buckets, +Inf, sum and count", "[unit]") {
    auto& h = vigil::histogram("vigil_test_histogram_seconds", {{"instance", "x"}}, {0.1, 1.0}, "Test");
    h.observe(0.05);
    h.observe(0.5);
    h.observe(0.5);
    h.observe(7);
    auto text = vigil::render_prometheus();
    CHECK(text.find("# TYPE vigil_test_histogram_seconds histogram\n"
                    "vigil_test_histogram_seconds_bucket{instance=\"x\",le=\"0.1\"} 1\n"
                    "vigil_test_histogram_seconds_bucket{instance=\"x\",le=\"1\"} 3\n"
                    "vigil_test_histogram_seconds_bucket{instance=\"x\",le=\"+Inf\"} 4\n"
                    "vigil_test_histogram_seconds_sum{instance=\"x\"} 8.05\n"
                    "vigil_test_histogram_seconds_count{instance=\"x\"} 4\n") != std::string::npos);
}

namespace {
// Offers each batch with a short wait, the way kafka_source does, and records what it saw.
class OfferingSource final : public vigil::Source {
  public:
    vigil::Status run(vigil::Emitter& out, const vigil::StopToken& stop, const vigil::RunOptions&) override {
        for (int i = 0; i < 3; ++i) {
            vigil::Batch b;
            for (int k = 0; k < 5; ++k) {
                vigil::CheckRecord r;
                r.name = "offer-" + std::to_string(i);
                r.check_id = std::to_string(i * 5 + k);
                b.records.push_back({r, {}});
            }
            vigil::AckFn ack = [this](vigil::AckStatus s) { delivered += s == AckStatus::Delivered ? 1 : 0; };
            for (;;) {
                auto r = out.offer(b, ack, 5ms);
                if (r == vigil::Emitter::Offer::Accepted) {
                    ++accepted;
                    break;
                }
                if (r != vigil::Emitter::Offer::Full) {
                    return vigil::Status::success();  // `accepted` falls short: the test fails
                }
                ++full;
                intact = intact && b.records.size() == 5 && b.records[4].check.check_id == std::to_string(i * 5 + 4) &&
                         static_cast<bool>(ack);
            }
        }
        stop.wait_for(30s);
        vigil::Batch last;
        last.records.resize(1);
        vigil::AckFn ack = [this](vigil::AckStatus) { ++late_acks; };
        after_stop = out.offer(last, ack, 1s);
        last_intact = last.records.size() == 1 && static_cast<bool>(ack);
        return vigil::Status::success();
    }
    std::atomic<int> accepted{0}, full{0}, delivered{0}, late_acks{0};
    std::atomic<bool> intact{true}, last_intact{false};
    std::atomic<vigil::Emitter::Offer> after_stop{vigil::Emitter::Offer::Accepted};
};
}  // namespace

TEST_CASE(
    "pipeline: offer() gives up after its wait leaving the batch with the source, takes it once there "
    "is room, and refuses it after a stop",
    "[unit][pipeline]") {
    OfferingSource source;
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("slow", std::make_unique<FlakySink>(0, 0, 50ms, false)));
    Pipeline p(options(1, 10s), "src", source, std::move(sinks));
    auto run = std::async(std::launch::async, [&] { return p.run(); });
    REQUIRE(wait_until([&] { return source.delivered.load() == 3; }));
    p.request_stop();
    auto result = run.get();
    CHECK(result.ok);
    CHECK(source.accepted.load() == 3);
    CHECK(source.full.load() > 0);  // one batch in flight at most, 50 ms a write, 5 ms waits
    CHECK(source.intact.load());
    CHECK(source.after_stop.load() == vigil::Emitter::Offer::Stopping);
    CHECK(source.last_intact.load());
    CHECK(source.late_acks.load() == 0);
}

TEST_CASE("pipeline: a dead-letter file that cannot be written holds its batch back, retried, until it can",
          "[unit][pipeline]") {
    vigil::test::TempDir dir;
    // One batch only: its write is the sink's last, so nothing after it could hide a sink left
    // marked as failing by the letters' retries.
    CountingSource source(10, 10, 0s, "site");
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("picky", std::make_unique<FlakySink>(0, 10, 0s, false)));
    auto o = options();
    o.dead_letter.file = dir / "missing" / "dead.jsonl";  // its directory does not exist yet
    auto& retries = vigil::counter("vigil_sink_retries_total", {{"instance", "picky"}});
    auto before = retries.value();
    Pipeline p(o, "src", source, std::move(sinks));
    auto result = std::async(std::launch::async, [&] { return p.run(); });
    // The first batch's letter fails to be written: retried, and nothing is acknowledged.
    REQUIRE(wait_until([&] { return retries.value() >= before + 3; }));
    CHECK(acked(source, AckStatus::Delivered) == 0);
    std::filesystem::create_directory(dir / "missing");
    REQUIRE(wait_until([&] { return acked(source, AckStatus::Delivered) == 10; }));
    // Written again, the sink is up, and stays up when the pipeline looks again (once a second).
    auto& up = vigil::gauge("vigil_sink_up", {{"instance", "picky"}});
    CHECK(up.value() == 1);
    CHECK_FALSE(wait_until([&] { return up.value() == 0; }, 2500ms));
    p.request_stop();
    CHECK(result.get().ok);
    CHECK(vigil::test::read_lines(dir / "missing" / "dead.jsonl").size() == 1);
}

TEST_CASE("pipeline: the dead-letter file rotates past dead_letter_max_size, keeping dead_letter_keep files",
          "[unit][pipeline]") {
    vigil::test::TempDir dir;
    CountingSource source(400, 10, 0s, "site");
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("picky", std::make_unique<FlakySink>(0, 2, 0s, false)));  // half refused
    auto o = options();
    o.once = true;
    o.dead_letter.file = dir / "dead.jsonl";
    // A batch's letters are written whole: the limit is a few batches' worth (a letter is ~1 KiB).
    o.dead_letter.max_size = 16384;
    o.dead_letter.keep = 2;
    Pipeline p(o, "src", source, std::move(sinks));
    CHECK(p.run().ok);
    auto size = [&](const std::string& name) { return std::filesystem::file_size(dir / name); };
    CHECK(size("dead.jsonl") <= 16384);
    CHECK(size("dead.jsonl.1") <= 16384);
    CHECK(size("dead.jsonl.2") <= 16384);
    CHECK_FALSE(std::filesystem::exists(dir / "dead.jsonl.3"));
    // The newest letters are in the current file; the oldest rotated out of the kept ones.
    auto lines = vigil::test::read_lines(dir / "dead.jsonl");
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().find("\"name\":\"site-399\"") != std::string::npos);
}

TEST_CASE("pipeline: several sources feed the same sinks, each acknowledged for its own batches in its order",
          "[unit][pipeline]") {
    CountingSource a(300, 10, 0s, "a");
    CountingSource b(500, 7, 0s, "b");
    auto sink = std::make_unique<FlakySink>(2, 0, 0s, false);
    FlakySink* s = sink.get();
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("s", std::move(sink)));
    auto o = options(4);
    o.once = true;
    Pipeline p(o, std::vector<SourceSlot>{{"a", &a}, {"b", &b}}, std::move(sinks));
    auto result = p.run();  // --once: returns when both sources did
    CHECK(result.ok);
    CHECK(result.records_delivered == 800);
    CHECK(s->accepted().size() == 800);  // check ids overlap between the two sources: count every record
    for (auto [source, batches, size] : {std::tuple{&a, 30u, 10u}, std::tuple{&b, 72u, 7u}}) {
        auto acks = source->acks();
        REQUIRE(acks.size() == batches);
        for (std::size_t i = 0; i < acks.size(); ++i) {
            CHECK(acks[i].first == i * size);  // its own batches, in its order, each once
            CHECK(acks[i].status == AckStatus::Delivered);
        }
    }
    CHECK(vigil::counter("vigil_source_records_emitted_total", {{"instance", "a"}}).value() == 300);
    CHECK(vigil::counter("vigil_source_records_acked_total", {{"instance", "b"}, {"status", "delivered"}}).value() ==
          500);
}

TEST_CASE("pipeline: a source that fills its bound of batches in flight does not hold another back",
          "[unit][pipeline]") {
    CountingSource busy(0, 10, 0s, "busy");  // endless
    CountingSource quiet(30, 10, 0s, "quiet");
    auto stalled = std::make_unique<FlakySink>(0, 0, 0s, true);
    FlakySink* s = stalled.get();
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("stalled", std::move(stalled)));
    Pipeline p(options(4, 200ms), std::vector<SourceSlot>{{"busy", &busy}, {"quiet", &quiet}}, std::move(sinks));
    auto run = std::async(std::launch::async, [&] { return p.run(); });
    // busy holds its four and waits with a fifth; quiet still gets its three batches in.
    REQUIRE(wait_until([&] { return busy.emitted() == 50 && quiet.emitted() == 30 && p.in_flight() == 7; }));
    CHECK(s->in_write());
    p.request_stop();
    auto result = run.get();
    CHECK_FALSE(result.ok);
    CHECK(result.batches_undelivered == 7);
    CHECK(quiet.acks().size() == 3);
    CHECK(busy.acks().size() == 4);
}

TEST_CASE("pipeline: a source that fails stops the others and the run reports its error", "[unit][pipeline]") {
    CountingSource endless(0, 10, 1ms, "endless");
    FailingSource failing;
    std::vector<SinkSlot> sinks;
    sinks.push_back(slot("s", std::make_unique<FlakySink>(0, 0, 0s, false)));
    Pipeline p(options(), std::vector<SourceSlot>{{"endless", &endless}, {"failing", &failing}}, std::move(sinks));
    auto result = p.run();  // returns: the failure stopped the endless source too
    CHECK_FALSE(result.ok);
    CHECK(result.error == "src: cannot reach the broker: connection refused");
    CHECK(endless.emitted() == acked(endless, AckStatus::Delivered));  // what it emitted is delivered
}
