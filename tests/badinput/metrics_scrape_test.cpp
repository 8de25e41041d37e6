// SPDX-License-Identifier: Apache-2.0
// /metrics always answers: with more descriptors open than select() can watch, and in a format
// promtool accepts, process metrics included.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace std::chrono_literals;
using vigil::test::Child;

namespace {
// A port that completes TCP handshakes (the kernel does, up to the backlog) but never answers:
// every check against it stays in flight, holding its socket, until its timeout.
class Blackhole {
  public:
    Blackhole() {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(listen(fd_, 4096) == 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Blackhole() { close(fd_); }
    int port = 0;

  private:
    int fd_ = -1;
};

std::size_t open_fds(pid_t pid) {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++n;
    }
    return n;
}

std::string serving_address(const Child& agent) {
    auto err = agent.err();
    const std::string serving = "serving /metrics and /healthz on ";
    auto at = err.find(serving);
    return at == std::string::npos ? std::string()
                                   : err.substr(at + serving.size(), err.find('\n', at) - at - serving.size());
}
}  // namespace

TEST_CASE("metrics: a scrape is answered while 2,000 checks are in flight", "[badinput]") {
    Blackhole hole;
    vigil::test::TempDir dir;
    std::string yaml =
        "pipeline: busy\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: http_check\n"
        "  interval: 2s\n  timeout: 50s\n  max_concurrency: 2500\n  sites:\n";  // all in flight within 2 s
    for (int i = 0; i < 2000; ++i) {
        yaml +=
            "    - {name: s" + std::to_string(i) + ", url: \"http://127.0.0.1:" + std::to_string(hole.port) + "/\"}\n";
    }
    yaml += "sinks:\n  - plugin: stdout_sink\n    path: " + (dir / "out.jsonl").string() + "\n";
    auto file = dir.write("p.yaml", yaml);
    Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string()});
    // Past FD_SETSIZE (1,024), where a select()-based server drops the scrape's socket.
    REQUIRE(vigil::test::wait_until([&] { return open_fds(agent.pid()) > 1500; }, 30s));
    auto address = serving_address(agent);
    REQUIRE_FALSE(address.empty());
    auto page = vigil::test::run({"/usr/bin/curl", "-sS", "-m", "5", "http://" + address + "/metrics"}, {}, 10s);
    INFO(page.err);
    CHECK(page.code == 0);
    CHECK(vigil::test::metric_value(page.out, "vigil_http_check_in_flight{instance=\"http_check.0\"}") > 1000);
    CHECK(vigil::test::metric_value(page.out, "process_open_fds") > 1024);
    agent.signal(SIGKILL);
    agent.wait(10s);
}

TEST_CASE("metrics: the exposition, process metrics included, passes promtool check metrics", "[badinput]") {
    vigil::test::TempDir dir;
    auto file = dir.write("p.yaml",
                          "pipeline: lint\nmetrics: {listen: \"127.0.0.1:0\"}\nsource:\n  plugin: http_check\n"
                          "  interval: 1s\n  sites:\n    - {name: refused, url: \"http://127.0.0.1:1/\"}\n"
                          "sinks:\n  - plugin: stdout_sink\n    path: " +
                              (dir / "out.jsonl").string() + "\n");
    Child agent({vigil::test::agent_binary().string(), "--pipeline", file.string()});
    std::string page;
    REQUIRE(vigil::test::wait_until([&] {
        page = vigil::test::metrics_of(agent);
        return vigil::test::metric_value(
                   page, "vigil_http_check_checks_total{instance=\"http_check.0\",result=\"connect\"}") >= 1;
    }));
    for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                             "process_max_fds", "process_start_time_seconds"}) {
        INFO(name);
        CHECK(vigil::test::metric_value(page, name) > 0);
    }
    // Started within the last minute, by the clock the metric uses.
    auto started = vigil::test::metric_value(page, "process_start_time_seconds");
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(std::abs(now - started) < 60);
    auto exposition = dir.write("metrics.txt", page);
    auto lint = vigil::test::run({"/bin/sh", "-c", "promtool check metrics < " + exposition.string()});
    INFO(lint.out << lint.err);
    CHECK(lint.code == 0);
    agent.signal(SIGTERM);
    CHECK(agent.wait(20s) == 0);
}
