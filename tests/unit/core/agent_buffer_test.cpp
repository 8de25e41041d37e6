// SPDX-License-Identifier: Apache-2.0
// The disk buffer through the agent, as a user runs it: kill -9 at random moments never loses an
// acknowledged record; a stop with a sink down is prompt and keeps the records; --check-config
// prints the block and refuses a bad one with its location.
#include <unistd.h>

#include <csignal>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "support.hpp"
#include "vigil/record.hpp"

using vigil::test::Child;
using vigil::test::TempDir;
using vigil::test::wait_until;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> agent(std::vector<std::string> args) {
    std::vector<std::string> argv{vigil::test::agent_binary().string(), "--plugin-dir",
                                  vigil::test::test_plugin_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string pipeline(const std::string& label, const std::string& sink) {
    return "pipeline: killed\n"
           "buffer: {type: disk, path: buf, max_size: 64MiB}\n"
           "source: {plugin: counting_source, count: 0, batch_size: 20, interval: 2ms, ack_file: acks.txt, label: " +
           label + "}\nsinks:\n  - " + sink + "\n";
}

// Names of the records acknowledged to the source, from the ack file ("first count status label").
std::set<std::string> acked_names(const std::filesystem::path& file) {
    std::set<std::string> out;
    for (const auto& line : vigil::test::read_lines(file)) {
        std::istringstream in(line);
        std::uint64_t first = 0, count = 0;
        std::string status, label;
        if (in >> first >> count >> status >> label && status == "delivered") {
            for (auto n = first; n < first + count; ++n) {
                out.insert(label + "-" + std::to_string(n));
            }
        }
    }
    return out;
}

// Names of the records the sink wrote; a line cut short by a kill is skipped (its write never
// returned, so the buffer still holds it).
std::multiset<std::string> written_names(const std::filesystem::path& file) {
    std::multiset<std::string> out;
    for (const auto& line : vigil::test::read_lines(file)) {
        if (auto d = vigil::decode_json(line)) {
            out.insert(d.record->name);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("agent: kill -9 at random moments never loses a record the buffer acknowledged", "[unit][agent][buffer]") {
    std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    TempDir dir;
    std::size_t lines = 0;
    for (int round = 0; round < 6; ++round) {
        // A slow sink, so that each kill finds records stored and not yet written.
        auto p = dir.write(
            "p.yaml", pipeline("run" + std::to_string(round), "{plugin: flaky_sink, delay: 8ms, path: out.jsonl}"));
        Child child(agent({"--pipeline", p.string()}));
        REQUIRE(wait_until([&] { return vigil::test::read_lines(dir / "acks.txt").size() >= lines + 5; }));
        // The random moment, not a wait for a result.
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
        child.signal(SIGKILL);
        child.wait();
        lines = vigil::test::read_lines(dir / "acks.txt").size();
    }
    auto acked = acked_names(dir / "acks.txt");
    REQUIRE(acked.size() > 500);
    // A last run with a fast sink hands on what the killed ones left stored.
    auto p = dir.write("p.yaml", pipeline("last", "{plugin: flaky_sink, path: out.jsonl}"));
    Child child(agent({"--pipeline", p.string()}));
    auto missing = [&] {
        auto written = written_names(dir / "out.jsonl");
        std::size_t n = 0;
        for (const auto& name : acked) {
            n += written.count(name) == 0 ? 1 : 0;
        }
        return n;
    };
    bool all = wait_until([&] { return missing() == 0; }, 30s);
    INFO(child.err());
    CHECK(all);
    CHECK(child.err().find("from an earlier run") != std::string::npos);
    child.signal(SIGTERM);
    CHECK(child.wait(20s) == 0);
}

TEST_CASE("agent: a stop with the sink down is prompt and the records stay in the buffer", "[unit][agent][buffer]") {
    TempDir dir;
    auto p = dir.write("p.yaml", pipeline("down", "{plugin: flaky_sink, fail_first: 1000000000, path: out.jsonl}"));
    Child child(agent({"--pipeline", p.string()}));
    REQUIRE(wait_until([&] { return vigil::test::read_lines(dir / "acks.txt").size() >= 20; }));
    auto t0 = std::chrono::steady_clock::now();
    child.signal(SIGTERM);
    auto code = child.wait(20s);
    auto took = std::chrono::steady_clock::now() - t0;
    INFO(child.err());
    CHECK(code == 0);
    CHECK(took < 10s);  // the drain deadline is 30 s: a sink that is down is not waited for
    CHECK(child.err().find("flaky_sink.0 is down: not waiting for it; its records stay in the buffer") !=
          std::string::npos);
    CHECK(child.err().find("records stay in the buffer " + (dir / "buf").string()) != std::string::npos);
}

TEST_CASE("agent: --check-config prints the buffer as it will run and refuses a bad one where it is",
          "[unit][agent][buffer]") {
    TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: t\nbuffer: {type: disk, path: b}\nsource: {plugin: counting_source}\n"
                       "sinks: [{plugin: stdout_sink}]\n");
    auto r = vigil::test::run(agent({"--check-config", "--pipeline", p.string()}));
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("buffer:\n  type: disk\n  path: " + (dir / "b").string() +
                     "\n  max_size: 1GiB\n  when_full: block\n") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "b"));  // checked, not created

    dir.write("file", "not a directory");
    auto bad = dir.write("bad.yaml",
                         "pipeline: t\nbuffer:\n  type: disk\n  path: file/buffer\n  max_size: 1MiB\n"
                         "  when_full: wait\nsource: {plugin: counting_source}\n"
                         "sinks: [{plugin: stdout_sink}]\n");
    r = vigil::test::run(agent({"--check-config", "--pipeline", bad.string()}));
    CHECK(r.code == 78);
    auto b = bad.string();
    CHECK(r.err == b + ":4:9: error: buffer.path: " + (dir / "file").string() + " is not a directory\n" + b +
                       ":5:13: error: buffer.max_size: must be at least 4MiB (a few batches of large records), "
                       "got 1MiB\n" +
                       b + ":6:14: error: buffer.when_full: \"wait\" is not one of: block, drop_oldest\n");
}

TEST_CASE(
    "agent: a full disk under the buffer: one clear error, nothing acknowledged, and it resumes by itself "
    "when space returns",
    "[unit][agent][buffer]") {
    if (::geteuid() != 0) {
        WARN("not run: mounting a small tmpfs (a disk that fills up) needs root; CI runs as root");
        return;
    }
    TempDir dir;
    auto fs = dir / "fs";
    std::filesystem::create_directory(fs);
    REQUIRE(vigil::test::run({"/usr/bin/mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", fs.string()}).code == 0);
    struct Unmount {
        std::filesystem::path p;
        ~Unmount() { vigil::test::run({"/usr/bin/umount", "-l", p.string()}); }
    } unmount{fs};
    // Leave about 2 MiB free: the buffer (its sink down) fills that within a second.
    vigil::test::run({"/usr/bin/dd", "if=/dev/zero", "of=" + (fs / "filler").string(), "bs=1M", "count=6"});
    auto p = dir.write("p.yaml", "pipeline: full\nmetrics: {listen: \"127.0.0.1:0\"}\nbuffer: {type: disk, path: " +
                                     (fs / "buf").string() +
                                     ", max_size: 64MiB}\nsource: {plugin: counting_source, "
                                     "count: 0, batch_size: 50, interval: 2ms, ack_file: acks.txt, label: f}\n"
                                     "sinks: [{plugin: flaky_sink, fail_first: 1000000000}]\n");
    Child child(agent({"--pipeline", p.string()}));
    auto errors = [&] {
        return vigil::test::metric_value(vigil::test::metrics_of(child),
                                         "vigil_buffer_write_errors_total{pipeline=\"full\"}");
    };
    auto acks = [&] { return vigil::test::read_lines(dir / "acks.txt").size(); };
    REQUIRE(wait_until([&] { return errors() >= 1; }, 30s));
    auto held = acks();
    auto failed = errors();
    REQUIRE(wait_until([&] { return errors() >= failed + 2; }, 30s));  // two more attempts, each refused
    CHECK(acks() == held);
    INFO(child.err());
    // LMDB reports the short write as EIO; the line says what it was.
    CHECK(child.err().find("error [buffer.full] buffer " + (fs / "buf").string() + ": cannot write: ") !=
          std::string::npos);
    CHECK(child.err().find("free: the disk is full); ") != std::string::npos);
    std::filesystem::remove(fs / "filler");
    CHECK(wait_until([&] { return acks() > held + 20; }, 30s));
    CHECK(child.err().find("buffer " + (fs / "buf").string() + ": writing again") != std::string::npos);
    child.signal(SIGTERM);
    CHECK(child.wait(20s) == 0);
}

TEST_CASE("agent: under systemd's StateDirectory the buffer and the dead letters default there",
          "[unit][agent][buffer]") {
    TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: t\nbuffer: {type: disk}\nsource: {plugin: counting_source}\n"
                       "sinks: [{plugin: stdout_sink}]\n");
    auto state = dir / "state";
    std::filesystem::create_directory(state);
    auto r =
        vigil::test::run(agent({"--check-config", "--pipeline", p.string()}), {{"STATE_DIRECTORY", state.string()}});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("dead_letter_file: " + (state / "dead-letters.jsonl").string() + "\n") != std::string::npos);
    CHECK(r.out.find("  path: " + (state / "buffer").string() + "\n") != std::string::npos);
}
