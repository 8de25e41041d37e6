// SPDX-License-Identifier: Apache-2.0
// Failed checks are data (the record carries each), not log lines: a million refusing sites
// once wrote 410,440 warnings in 74 s. Workers tell the digest each check's outcome; it logs one
// warning at most once a minute per instance (failures by error kind, a few example sites, the
// sites that started failing or recovered), the first as soon as failures begin.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "vigil/log.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

class FailureDigest {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kExamples = 3;

    explicit FailureDigest(Logger log, Clock::duration period = std::chrono::minutes(1))
        : log_(std::move(log)), period_(period) {}

    /// One finished check. `started_failing`/`recovered`: it changed the site's state.
    /// `url` as it may be shown (Site::shown_url).
    void failed(const std::string& site, std::string_view url, std::string_view kind, std::string_view detail,
                bool started_failing, Clock::time_point now = Clock::now());
    void succeeded(bool recovered, Clock::time_point now = Clock::now());
    /// Logs what accumulated if the period has passed since the last report (call it often).
    void tick(Clock::time_point now = Clock::now());
    /// Logs whatever accumulated, now (at stop).
    void flush();

  private:
    void report_locked(Clock::time_point now) VIGIL_REQUIRES(mutex_);

    Logger log_;
    Clock::duration period_;
    Mutex mutex_;
    Clock::time_point last_report_ VIGIL_GUARDED_BY(mutex_){};
    bool reported_ VIGIL_GUARDED_BY(mutex_) = false;
    std::atomic<std::uint64_t> checks_{0};  // a good check costs this increment, no lock
    std::uint64_t failures_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::uint64_t started_failing_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::uint64_t recovered_ VIGIL_GUARDED_BY(mutex_) = 0;
    std::map<std::string, std::uint64_t, std::less<>> by_kind_ VIGIL_GUARDED_BY(mutex_);
    std::vector<std::string> examples_ VIGIL_GUARDED_BY(mutex_);
};

/// Which sites of one check loop are failing, so that the digest hears when a site starts failing
/// or recovers; each failure also goes to the debug log (the record carries it anyway). Not
/// thread-safe: the loop's thread owns it.
class FailingSites {
  public:
    FailingSites(FailureDigest& digest, Logger& log) : digest_(digest), log_(log) {}
    /// One finished check of `site`: ok, or failed with `error` and `detail`.
    void note(const std::string& site, std::string_view url, bool ok, std::string_view error, std::string_view detail);
    /// The site left the configuration.
    void forget(const std::string& site) { failing_.erase(site); }

  private:
    FailureDigest& digest_;
    Logger& log_;
    std::unordered_set<std::string> failing_;
};

}  // namespace vigil::checks
