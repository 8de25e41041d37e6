// SPDX-License-Identifier: Apache-2.0
// What http_check's integration tests share: the fixture sites (started once per process), a
// round of checks run in-process (--once), and what the fixture's /record routes received.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixture_sites.hpp"
#include "vigil/record.hpp"
#include "vigil/source.hpp"

namespace vigil::test {

/// The fixture sites of this test process (scripts/fixture-sites), started at first use.
FixtureSites& fixture();

/// Takes every batch and acknowledges it at once.
class Capture final : public Emitter {
  public:
    bool emit(Batch b, AckFn ack) override;
    std::vector<CheckRecord> all() const;
    std::map<std::string, CheckRecord> by_name() const;  // the last record of each site

  private:
    mutable std::mutex mutex_;
    std::vector<CheckRecord> records_;
};

class NeverStop final : public StopToken {
  public:
    bool stop_requested() const override { return false; }
    bool wait_for(Duration) const override { return false; }
};

/// Stops after `after` has passed.
class StopAfter final : public StopToken {
  public:
    explicit StopAfter(Duration after) : deadline_(std::chrono::steady_clock::now() + after) {}
    bool stop_requested() const override { return std::chrono::steady_clock::now() >= deadline_; }
    bool wait_for(Duration d) const override {
        std::this_thread::sleep_for(std::min<Duration>(d, deadline_ - std::chrono::steady_clock::now()));
        return stop_requested();
    }

  private:
    std::chrono::steady_clock::time_point deadline_;
};

/// Runs one round (--once) of http_check with `yaml` as its section: every record made.
std::vector<CheckRecord> check_all(const std::string& yaml);
/// The same, by site name (a site with several records, ip_mode: all, keeps its last).
std::map<std::string, CheckRecord> check_once(const std::string& yaml);

/// One entry of an inline `sites:` list.
std::string site(const std::string& name, const std::string& url, const std::string& extra = "");

/// What the fixture's /record/<name> received: method, headers and body of each request.
struct Received {
    std::string method, body, path;
    std::map<std::string, std::string> headers;  // lower-case names
};
std::vector<Received> received(const std::string& name);

/// Percent-encodes everything but [A-Za-z0-9._-] (a URL inside a query).
std::string escape(const std::string& url);

}  // namespace vigil::test
