// SPDX-License-Identifier: Apache-2.0
#include "support.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <csignal>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vigil::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/vigil-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return condition();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

Child::Child(std::vector<std::string> argv, std::map<std::string, std::string> extra_env) {
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        auto name = entry.substr(0, entry.find('='));
        if (extra_env.count(name) == 0) {
            env_store.push_back(entry);
        }
    }
    for (const auto& [k, v] : extra_env) {
        env_store.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_store) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (auto& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    auto out = (dir_ / "stdout").string();
    auto err = (dir_ / "stderr").string();
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::strerror(rc));
    }
}

Child::~Child() {
    if (!status_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
}

void Child::signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
    if (status_) {
        return status_;
    }
    int st = 0;
    bool exited = wait_until([&] { return ::waitpid(pid_, &st, WNOHANG) == pid_; }, timeout);
    if (!exited) {
        return std::nullopt;
    }
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status_;
}

std::string Child::out() const { return read_file(dir_ / "stdout"); }
std::string Child::err() const { return read_file(dir_ / "stderr"); }

RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> extra_env,
              std::chrono::milliseconds timeout) {
    Child child(std::move(argv), std::move(extra_env));
    auto code = child.wait(timeout);
    return RunResult{code.value_or(-1), child.out(), child.err()};
}

std::filesystem::path agent_binary() { return VIGIL_TEST_AGENT; }
std::filesystem::path test_plugin_dir() { return VIGIL_TEST_PLUGIN_DIR; }
std::filesystem::path loader_fixture_dir() { return VIGIL_TEST_FIXTURE_DIR; }
std::filesystem::path source_dir() { return VIGIL_SOURCE_DIR; }

std::string kafka_untrusted_ca() {
    const char* v = std::getenv("VIGIL_UNTRUSTED_CA_FILE");
    return v != nullptr ? v : "/nonexistent-untrusted-ca.pem";
}

std::string metrics_of(const Child& agent) {
    auto err = agent.err();
    const std::string serving = "serving /metrics and /healthz on ";
    auto at = err.find(serving);
    if (at == std::string::npos) {
        return {};
    }
    auto addr = err.substr(at + serving.size(), err.find('\n', at) - at - serving.size());
    return run({"/usr/bin/curl", "-sS", "http://" + addr + "/metrics"}, {}, std::chrono::seconds(5)).out;
}

double metric_value(const std::string& page, const std::string& series) {
    auto at = page.find("\n" + series + " ");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stod(page.substr(at + series.size() + 2));
}

}  // namespace vigil::test
