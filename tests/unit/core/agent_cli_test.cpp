// SPDX-License-Identifier: Apache-2.0
// The agent binary as a user runs it: exit codes, one-line errors, --check-config, --once,
// SIGTERM drain and SIGHUP reload.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "slow_clients.hpp"
#include "support.hpp"
#include "vigil/private_file.hpp"
#include "vigil/version.hpp"

using vigil::test::Child;
using vigil::test::TempDir;
using vigil::test::wait_until;

namespace {
std::vector<std::string> agent(std::vector<std::string> args) {
    std::vector<std::string> argv{vigil::test::agent_binary().string(), "--plugin-dir",
                                  vigil::test::test_plugin_dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}
std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// Runs `--pipeline <yaml>` and expects exit 78 with exactly one error line containing `want`.
void expect_config_error(const std::string& yaml, const std::string& want, std::vector<std::string> extra = {}) {
    TempDir dir;
    auto p = dir.write("p.yaml", yaml);
    auto args = extra;
    args.insert(args.end(), {"--pipeline", p.string()});
    auto r = vigil::test::run(agent(args));
    INFO(r.err);
    CHECK(r.code == 78);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find(want) != std::string::npos);
    CHECK(r.out.empty());
}

const char* const kGood = R"(pipeline: t
source:
  plugin: counting_source
  count: 100
  batch_size: 7
  ack_file: acks.txt
sinks:
  - plugin: stdout_sink
    path: out.jsonl
)";
}  // namespace

TEST_CASE("agent: --version prints the version and plugin ABI", "[unit][agent]") {
    auto r = vigil::test::run({vigil::test::agent_binary().string(), "--version"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("vigil agent " VIGIL_VERSION "\nplugin ABI 7.3\nbuild gcc-", 0) == 0);
}

TEST_CASE("agent: a bad command line exits 64", "[unit][agent]") {
    CHECK(vigil::test::run({vigil::test::agent_binary().string()}).code == 64);
    CHECK(vigil::test::run({vigil::test::agent_binary().string(), "--bogus"}).code == 64);
}

TEST_CASE("agent: --list-plugins prints one line per plugin", "[unit][agent]") {
    auto r = vigil::test::run(agent({"--list-plugins"}));
    CHECK(r.code == 0);
    CHECK(r.out.find("counting_source  source 0.0.1    wip     " +
                     (vigil::test::test_plugin_dir() / "counting_source.so").string()) != std::string::npos);
    CHECK(r.out.find("flaky_sink       sink") != std::string::npos);
    CHECK(r.out.find("stdout_sink      sink   1.0.0    stable") != std::string::npos);
}

TEST_CASE("agent: a stripped plugin (as Debian packages ship them) is found and loaded", "[unit][agent]") {
    TempDir dir;
    auto copy = dir / "counting_source.so";
    std::filesystem::copy_file(vigil::test::test_plugin_dir() / "counting_source.so", copy);
    REQUIRE(vigil::test::run({"/usr/bin/strip", "--strip-all", copy.string()}).code == 0);
    REQUIRE(vigil::test::run({"/usr/bin/readelf", "-S", copy.string()}).out.find(".symtab") == std::string::npos);
    auto bin = vigil::test::agent_binary().string();  // not agent(): it would add the unstripped original first
    auto r = vigil::test::run({bin, "--list-plugins", "--plugin-dir", dir.path().string()});
    INFO(r.err);
    CHECK(r.out.find("counting_source  source 0.0.1    wip     " + copy.string()) != std::string::npos);
    auto p = dir.write("p.yaml",
                       "pipeline: t\nsource: {plugin: counting_source, count: 5}\nsinks: [{plugin: stdout_sink}]\n");
    auto once = vigil::test::run({bin, "--plugin-dir", dir.path().string(), "--pipeline", p.string(), "--once"});
    CHECK(once.code == 0);
    CHECK(count_lines(once.out) == 5);
}

TEST_CASE("agent: each kind of bad configuration exits 78 with its own one-line error", "[unit][agent]") {
    SECTION("broken YAML") {
        expect_config_error("pipeline: t\nsource: {plugin: counting_source\n", "p.yaml:3:1: error: invalid YAML: ");
    }
    SECTION("unknown key") {
        expect_config_error(std::string(kGood) + "    fsink: true\n",
                            "p.yaml:10:5: error: sinks[0].fsink: unknown option; did you mean \"fsync\"? "
                            "(allowed: plugin, alias, retry, path, fsync)");
    }
    SECTION("duplicate key") {
        expect_config_error(std::string(kGood) + "    path: again.jsonl\n",
                            "p.yaml:10:5: error: sinks[0].path: duplicate key \"path\" (first at 9:5)");
    }
    SECTION("missing plugin") {
        expect_config_error("pipeline: t\nsource: {plugin: counting_source}\nsinks:\n  - plugin: kafka_snk\n",
                            "p.yaml:4:13: error: sinks[0].plugin: plugin \"kafka_snk\" not found (no kafka_snk.so in ");
    }
    SECTION("wrong-ABI plugin") {
        expect_config_error("pipeline: t\nsource: {plugin: counting_source}\nsinks:\n  - plugin: wrong_abi\n",
                            "wrong_abi.so: built for plugin ABI 8, this agent provides ABI 7",
                            {"--plugin-dir", vigil::test::loader_fixture_dir().string()});
    }
    SECTION("a factory that throws") {
        expect_config_error("pipeline: t\nsource: {plugin: counting_source}\nsinks:\n  - plugin: throwing_factory\n",
                            "p.yaml:4:5: error: sinks[0]: plugin threw: boom",
                            {"--plugin-dir", vigil::test::loader_fixture_dir().string()});
    }
    SECTION("a plugin semantic error") {
        expect_config_error(
            "pipeline: t\nsource: {plugin: counting_source, batch_size: 0}\nsinks: [{plugin: stdout_sink}]\n",
            "p.yaml:2:47: error: source.batch_size: must be at least 1");
    }
}

TEST_CASE("agent: --check-config prints the effective config, secrets redacted, and runs nothing", "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml", std::string(kGood) +
                                     "    alias: ${SINK_NAME:-out}\n"
                                     "    retry: {max: 1m}\n");
    auto r = vigil::test::run(agent({"--check-config", "--pipeline", p.string()}), {{"SINK_NAME", "file"}});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("alias: file") != std::string::npos);   // interpolated
    CHECK(r.out.find("fsync: false") != std::string::npos);  // defaults shown
    CHECK(r.out.find("max: 1m") != std::string::npos);
    CHECK(r.out.find("initial: 100ms") != std::string::npos);
    CHECK(r.err.find("configuration OK") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "out.jsonl"));
}

TEST_CASE("agent: --once runs one round, drains, and exits 0", "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml", kGood);
    auto r = vigil::test::run(agent({"--once", "--pipeline", p.string()}));
    INFO(r.err);
    CHECK(r.code == 0);
    auto lines = vigil::test::read_lines(dir / "out.jsonl");
    REQUIRE(lines.size() == 100);
    CHECK(lines[0].rfind(R"({"name":"site-0","url":"http://127.0.0.1/0","response_time":1.5,"status_code":200,)", 0) ==
          0);
    auto acks = vigil::test::read_lines(dir / "acks.txt");
    CHECK(acks.size() == 15);  // ceil(100 / 7)
    for (const auto& a : acks) {
        CHECK(a.find("delivered") != std::string::npos);
    }
}

TEST_CASE("agent: sources runs several sources into the same sinks, each acknowledged for its own batches",
          "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml", R"(pipeline: t
sources:
  - {plugin: counting_source, count: 30, batch_size: 7, label: a, ack_file: acks-a.txt}
  - {plugin: counting_source, count: 50, batch_size: 7, label: b, ack_file: acks-b.txt}
sinks:
  - plugin: stdout_sink
    path: out.jsonl
)");
    auto r = vigil::test::run(agent({"--once", "--pipeline", p.string()}));
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("starting: counting_source.0, counting_source.1 -> 1 sink(s)") != std::string::npos);
    auto lines = vigil::test::read_lines(dir / "out.jsonl");
    CHECK(lines.size() == 80);
    auto named = [&](const std::string& prefix) {
        return std::count_if(lines.begin(), lines.end(),
                             [&](const std::string& l) { return l.rfind("{\"name\":\"" + prefix + "-", 0) == 0; });
    };
    CHECK(named("a") == 30);
    CHECK(named("b") == 50);
    for (auto [file, batches] : {std::pair{"acks-a.txt", 5u}, std::pair{"acks-b.txt", 8u}}) {
        auto acks = vigil::test::read_lines(dir / file);
        CHECK(acks.size() == batches);  // ceil(count / 7): each source hears of its own batches only
        for (const auto& a : acks) {
            CHECK(a.find("delivered") != std::string::npos);
        }
    }
    auto check = vigil::test::run(agent({"--check-config", "--pipeline", p.string()}));
    CHECK(check.code == 0);
    CHECK(check.out.find("sources:") != std::string::npos);
    CHECK(check.out.find("label: b") != std::string::npos);
}

TEST_CASE("agent: source and sources are one or the other, and a sources list names each instance once",
          "[unit][agent]") {
    SECTION("both") {
        expect_config_error(
            "pipeline: t\nsource: {plugin: counting_source}\nsources: [{plugin: counting_source}]\n"
            "sinks: [{plugin: stdout_sink}]\n",
            "p.yaml:3:10: error: sources: the pipeline has `source:` already");
    }
    SECTION("neither") {
        expect_config_error("pipeline: t\nsinks: [{plugin: stdout_sink}]\n",
                            "error: source: missing required option \"source\" (or \"sources\", a list)");
    }
    SECTION("an empty list") {
        expect_config_error("pipeline: t\nsources: []\nsinks: [{plugin: stdout_sink}]\n",
                            "p.yaml:2:10: error: sources: at least one source is required");
    }
    SECTION("one alias twice") {
        expect_config_error(
            "pipeline: t\nsources:\n  - {plugin: counting_source, alias: x}\n"
            "  - {plugin: counting_source, alias: x}\nsinks: [{plugin: stdout_sink}]\n",
            "p.yaml:4:38: error: sources[1].alias: instance name \"x\" is used twice");
    }
    SECTION("a sink among the sources") {
        expect_config_error("pipeline: t\nsources: [{plugin: stdout_sink}]\nsinks: [{plugin: stdout_sink}]\n",
                            "p.yaml:2:20: error: sources[0].plugin: \"stdout_sink\" is a sink plugin; a source is "
                            "needed here");
    }
}

TEST_CASE("agent: SIGHUP reloads each of several sources", "[unit][agent]") {
    TempDir dir;
    auto yaml = [](const std::string& a, const std::string& b) {
        return "pipeline: t\nsources:\n"
               "  - {plugin: counting_source, count: 0, batch_size: 1, interval: 5ms, label: " +
               a + "}\n  - {plugin: counting_source, count: 0, batch_size: 1, interval: 5ms, label: " + b +
               "}\nsinks: [{plugin: stdout_sink, path: out.jsonl}]\n";
    };
    auto p = dir.write("p.yaml", yaml("a1", "b1"));
    Child child(agent({"--pipeline", p.string()}));
    auto output_has = [&](const std::string& s) {
        return vigil::test::read_file(dir / "out.jsonl").find(s) != std::string::npos;
    };
    REQUIRE(wait_until([&] { return output_has("\"a1-") && output_has("\"b1-"); }));
    dir.write("p.yaml", yaml("a2", "b2"));
    child.signal(SIGHUP);
    CHECK(wait_until([&] { return output_has("\"a2-") && output_has("\"b2-"); }));
    child.signal(SIGTERM);
    CHECK(child.wait(std::chrono::seconds(20)) == 0);
    CHECK(child.err().find("reload applied to counting_source.1") != std::string::npos);
}

TEST_CASE("agent: stdout_sink writes data to stdout and logs to stderr, in JSON if asked", "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: t\nsource: {plugin: counting_source, count: 3}\nsinks: [{plugin: stdout_sink}]\n");
    auto r = vigil::test::run(agent({"--once", "--log-format", "json", "--pipeline", p.string()}));
    CHECK(r.code == 0);
    CHECK(count_lines(r.out) == 3);
    std::istringstream err(r.err);
    int parsed = 0;
    for (std::string line; std::getline(err, line);) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        INFO(line);
        CHECK((d.IsObject() && d.HasMember("message") && d.HasMember("level")));
        ++parsed;
    }
    CHECK(parsed > 0);
}

TEST_CASE("agent: SIGTERM stops the source, drains, and exits 0 with nothing acked lost", "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml", R"(pipeline: t
source: {plugin: counting_source, count: 0, batch_size: 5, interval: 5ms, ack_file: acks.txt}
sinks:
  - {plugin: flaky_sink, delay: 20ms, path: out.jsonl}
)");
    Child child(agent({"--pipeline", p.string()}));
    REQUIRE(wait_until([&] { return vigil::test::read_lines(dir / "acks.txt").size() >= 3; }));
    child.signal(SIGTERM);
    auto code = child.wait(std::chrono::seconds(20));
    INFO(child.err());
    REQUIRE(code);
    CHECK(*code == 0);
    std::size_t acked = 0;
    for (const auto& line : vigil::test::read_lines(dir / "acks.txt")) {
        CHECK(line.find(" delivered") != std::string::npos);
        acked += std::stoul(line.substr(line.find(' ') + 1));
    }
    CHECK(acked == vigil::test::read_lines(dir / "out.jsonl").size());
    CHECK(child.err().find("stop requested") != std::string::npos);
}

TEST_CASE("agent: SIGHUP reloads the source's options; a bad file is refused and the old config kept",
          "[unit][agent]") {
    TempDir dir;
    auto yaml = [](const std::string& label) {
        return "pipeline: t\nsource: {plugin: counting_source, count: 0, batch_size: 1, interval: 5ms, label: " +
               label + "}\nsinks: [{plugin: stdout_sink, path: out.jsonl}]\n";
    };
    auto p = dir.write("p.yaml", yaml("before"));
    Child child(agent({"--pipeline", p.string()}));
    auto output_has = [&](const std::string& s) {
        return vigil::test::read_file(dir / "out.jsonl").find(s) != std::string::npos;
    };
    REQUIRE(wait_until([&] { return output_has("\"before-"); }));

    dir.write("p.yaml", "pipeline: t\nsource: {plugin: counting_source, label: [oops]}\n");
    child.signal(SIGHUP);
    REQUIRE(wait_until([&] { return child.err().find("reload refused") != std::string::npos; }));
    CHECK_FALSE(child.wait(std::chrono::milliseconds(1)));  // still running

    dir.write("p.yaml", yaml("after"));
    child.signal(SIGHUP);
    REQUIRE(wait_until([&] { return output_has("\"after-"); }));
    child.signal(SIGTERM);
    CHECK(child.wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("agent: metrics.listen serves Prometheus /metrics and /healthz", "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml", R"(pipeline: t
source: {plugin: counting_source, count: 0, batch_size: 5, interval: 5ms}
sinks: [{plugin: flaky_sink, fail_first: 1, retry: {initial: 1ms}}]
metrics: {listen: "127.0.0.1:0"}
)");
    Child child(agent({"--pipeline", p.string()}));
    std::string port;
    REQUIRE(wait_until([&] {
        auto err = child.err();
        auto at = err.find("serving /metrics and /healthz on 127.0.0.1:");
        if (at == std::string::npos) {
            return false;
        }
        auto start = at + std::string("serving /metrics and /healthz on 127.0.0.1:").size();
        port = err.substr(start, err.find('\n', start) - start);
        return true;
    }));
    auto base = "http://127.0.0.1:" + port;
    std::string metrics;
    // The counter lines exist from the start; wait for a batch the sink accepted, which comes
    // after its one failure.
    REQUIRE(wait_until([&] {
        metrics = vigil::test::run({"/usr/bin/curl", "-sS", base + "/metrics"}).out;
        return vigil::test::metric_value(metrics, "vigil_sink_batches_total{instance=\"flaky_sink.0\"}") >= 1;
    }));
    CHECK(metrics.find("# TYPE vigil_sink_retries_total counter") != std::string::npos);
    CHECK(metrics.find("vigil_sink_retries_total{instance=\"flaky_sink.0\"} 1\n") != std::string::npos);
    CHECK(metrics.find("vigil_pipeline_batches_emitted_total{pipeline=\"t\"}") != std::string::npos);
    CHECK(metrics.find("vigil_source_records_emitted_total{instance=\"counting_source.0\"} ") != std::string::npos);
    CHECK(metrics.find("vigil_source_records_acked_total{instance=\"counting_source.0\",status=\"delivered\"} ") !=
          std::string::npos);
    // Batch latency per sink instance, as a Prometheus histogram.
    CHECK(metrics.find("# TYPE vigil_sink_write_seconds histogram\n") != std::string::npos);
    CHECK(metrics.find("vigil_sink_write_seconds_bucket{instance=\"flaky_sink.0\",le=\"0.001\"} ") !=
          std::string::npos);
    CHECK(metrics.find("vigil_sink_write_seconds_bucket{instance=\"flaky_sink.0\",le=\"+Inf\"} ") != std::string::npos);
    CHECK(metrics.find("vigil_sink_write_seconds_count{instance=\"flaky_sink.0\"} ") != std::string::npos);
    auto health = vigil::test::run({"/usr/bin/curl", "-sS", "-w", " %{http_code}", base + "/healthz"});
    CHECK(health.out == "ok\n 200");
    auto missing = vigil::test::run({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope"});
    CHECK(missing.out == "404");
    child.signal(SIGTERM);
    CHECK(child.wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("agent: a malformed metrics.listen is a configuration error", "[unit][agent]") {
    expect_config_error(
        "pipeline: t\nsource: {plugin: counting_source}\nsinks: [{plugin: stdout_sink}]\n"
        "metrics: {listen: 'localhost:9464'}\n",
        "p.yaml:4:19: error: metrics.listen: \"localhost:9464\" is not host:port with an IP address, "
        "e.g. 127.0.0.1:9464");
}

TEST_CASE("agent: SIGHUP reopens the dead-letter file, so an external rotation (logrotate) takes effect",
          "[unit][agent]") {
    TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: t\ndead_letter_file: dead.jsonl\nsource: {plugin: counting_source, "
                       "count: 0, batch_size: 1, interval: 10ms}\nsinks: [{plugin: flaky_sink, "
                       "reject_every: 1}]\n");
    Child child(agent({"--pipeline", p.string()}));
    REQUIRE(wait_until([&] { return vigil::test::read_lines(dir / "dead.jsonl").size() >= 3; }));
    std::filesystem::rename(dir / "dead.jsonl", dir / "dead.jsonl.old");
    child.signal(SIGHUP);
    // Letters written after the reload go to a new file of the configured name.
    CHECK(wait_until([&] { return vigil::test::read_lines(dir / "dead.jsonl").size() >= 3; }));
    child.signal(SIGTERM);
    CHECK(child.wait(std::chrono::seconds(20)) == 0);
}

namespace {
// `agent WORDS... --plugin-dir <test plugins>`: a command comes first on the line.
std::vector<std::string> command(std::vector<std::string> words) {
    std::vector<std::string> argv{vigil::test::agent_binary().string()};
    argv.insert(argv.end(), words.begin(), words.end());
    argv.insert(argv.end(), {"--plugin-dir", vigil::test::test_plugin_dir().string()});
    return argv;
}
}  // namespace

TEST_CASE("agent: a plugin's command runs with its validated section", "[unit][agent]") {
    vigil::test::TempDir dir;
    auto p =
        dir.write("p.yaml",
                  "pipeline: t\nsource:\n  plugin: counting_source\n  count: 5\n  label: \"${LABEL:-from-default}\"\n"
                  "  ack_file: acks.txt\nsinks: [{plugin: stdout_sink}]\n");
    auto env = std::map<std::string, std::string>{{"LABEL", "from-env"}};
    auto r = vigil::test::run(command({"echo", "one", "two words", "--pipeline", p.string()}), env);
    INFO(r.err);
    CHECK(r.code == 0);
    // Words in order; the section typed by its table (count an integer) and interpolated.
    CHECK(r.out ==
          "one\ntwo words\n{\"plugin\":\"counting_source\",\"count\":5,\"label\":\"from-env\","
          "\"ack_file\":\"acks.txt\"}\ncounting_source.0\n");
    // The command's own exit code and its located errors come through.
    CHECK(vigil::test::run(command({"echo", "fail", "--pipeline", p.string()})).code == 1);
    auto bad = vigil::test::run(command({"echo", "bad", "--pipeline", p.string()}));
    CHECK(bad.code == 78);
    CHECK(bad.err.find(p.string() + ":4:10: error: source.count: echo: not a count I like") != std::string::npos);
    // A command no plugin of the pipeline offers, and one without its pipeline.
    auto unknown = vigil::test::run(command({"nosuch", "--pipeline", p.string()}));
    CHECK(unknown.code == 64);
    CHECK(unknown.err == "agent: error: no plugin of pipeline t (" + p.string() +
                             ") offers a command \"nosuch\"; commands: echo "
                             "(counting_source)\n");
    auto alone = vigil::test::run(command({"echo", "x"}));
    CHECK(alone.code == 64);
    CHECK(alone.err.find("--pipeline is required") != std::string::npos);
    // A pipeline file with errors is refused before any command runs.
    auto broken = dir.write("broken.yaml",
                            "pipeline: t\nsource:\n  plugin: counting_source\n  count: lots\n"
                            "sinks: [{plugin: stdout_sink}]\n");
    auto refused = vigil::test::run(command({"echo", "hello", "--pipeline", broken.string()}));
    CHECK(refused.code == 78);
    CHECK(refused.out.empty());
    // --list-plugins names the commands.
    CHECK(vigil::test::run(agent({"--list-plugins"})).out.find("(commands: agent echo WORDS...)") != std::string::npos);
}

TEST_CASE("hostile: 300 slow connections from one address leave /healthz answering", "[hostile]") {
    TempDir dir;
    auto p = dir.write("p.yaml",
                       "pipeline: t\nsource: {plugin: counting_source, count: 0, interval: 50ms}\n"
                       "sinks: [{plugin: flaky_sink}]\nmetrics: {listen: \"127.0.0.1:0\"}\n");
    Child child(agent({"--pipeline", p.string()}));
    const std::string serving = "serving /metrics and /healthz on 127.0.0.1:";
    int port = 0;
    REQUIRE(wait_until([&] {
        auto err = child.err();
        auto at = err.find(serving);
        if (at != std::string::npos) {
            port = std::stoi(err.substr(at + serving.size()));
        }
        return port != 0;
    }));
    vigil::test::SlowClients slow(port, 300);
    REQUIRE(wait_until([&] { return slow.open() <= 8; }, std::chrono::seconds(5)));
    for (int i = 0; i < 3; ++i) {
        auto [code, took] = vigil::test::timed_get(port, "/healthz");
        CHECK(code == 200);
        CHECK(took < std::chrono::seconds(1));
        slow.trickle();
    }
    child.signal(SIGTERM);
    CHECK(child.wait(std::chrono::seconds(20)) == 0);
}

TEST_CASE("hostile: files the agent writes are its own (0600) and never followed through a link", "[unit][hostile]") {
    TempDir dir;
    auto old = ::umask(022);
    auto path = (dir.path() / "dead.jsonl").string();
    std::FILE* f = vigil::open_private_append(path);
    REQUIRE(f != nullptr);
    std::fclose(f);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto link = (dir.path() / "link.jsonl").string();
    REQUIRE(::symlink("/etc/passwd", link.c_str()) == 0);
    errno = 0;
    CHECK(vigil::open_private_append(link) == nullptr);
    CHECK(errno == ELOOP);
    // stdout_sink's path, through the agent.
    auto p = dir.write("p.yaml",
                       "pipeline: t\nsource: {plugin: counting_source, count: 3}\n"
                       "sinks: [{plugin: stdout_sink, path: out.jsonl}]\n");
    auto r = vigil::test::run(agent({"--once", "--pipeline", p.string()}));
    INFO(r.err);
    CHECK(r.code == 0);
    REQUIRE(::stat((dir.path() / "out.jsonl").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto q = dir.write("q.yaml",
                       "pipeline: t\ndrain_timeout: 1s\nsource: {plugin: counting_source, count: 3}\n"
                       "sinks: [{plugin: stdout_sink, path: link.jsonl}]\n");
    auto refused = vigil::test::run(agent({"--once", "--pipeline", q.string()}));
    CHECK(refused.code != 0);
    CHECK(refused.err.find("cannot open") != std::string::npos);
    CHECK(refused.err.find("Too many levels of symbolic links") != std::string::npos);
    ::umask(old);
}
