// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test suites: temporary directories, waiting on a condition with a
// deadline (never sleep-and-hope), running a child process with captured output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::test {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    /// Writes `content` to `name` inside the directory and returns its path.
    std::filesystem::path write(const std::string& name, const std::string& content) const;

  private:
    std::filesystem::path path_;
};

/// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string read_file(const std::filesystem::path& path);
std::vector<std::string> read_lines(const std::filesystem::path& path);

/// A child process with stdout and stderr captured to files.
class Child {
  public:
    Child(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {});
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    /// Waits for exit up to `timeout`; the exit code, 128+signal if killed, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    std::string out() const;
    std::string err() const;

  private:
    TempDir dir_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

struct RunResult {
    int code = -1;
    std::string out;
    std::string err;
};

/// Runs a command to completion (killed after `timeout`, which fails the run with code -1).
RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// The /metrics page of an agent started with `metrics: {listen: ...}` (the address it logged),
/// or "" while it has not said where it listens.
std::string metrics_of(const Child& agent);
/// The value of the series whose line starts with `series` ("name{labels}") in a /metrics page,
/// or -1 when there is none.
double metric_value(const std::string& page, const std::string& series);

/// Paths of the build tree, passed in by CMake.
std::filesystem::path agent_binary();
std::filesystem::path test_plugin_dir();
std::filesystem::path loader_fixture_dir();
std::filesystem::path source_dir();
/// A CA that signed nothing the services use ($VIGIL_UNTRUSTED_CA_FILE from scripts/services env).
std::string kafka_untrusted_ca();

}  // namespace vigil::test
