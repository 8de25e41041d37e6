// SPDX-License-Identifier: Apache-2.0
#include "failure_digest.hpp"
#include "vigil/sync.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace vigil::checks {

void FailureDigest::failed(const std::string& site, std::string_view url, std::string_view kind,
                           std::string_view detail, bool started_failing, Clock::time_point now) {
    Lock lock(mutex_);
    checks_.fetch_add(1, std::memory_order_relaxed);
    ++failures_;
    started_failing_ += started_failing ? 1 : 0;
    auto it = by_kind_.find(kind);
    if (it == by_kind_.end()) {
        by_kind_.emplace(std::string(kind), 1);
    } else {
        ++it->second;
    }
    if (examples_.size() < kExamples) {
        examples_.push_back(fmt::format("site=\"{}\" url={}: {}: {}", site, url, kind, detail));
    }
    // The first failure after a quiet period is reported at once; the rest wait for the period.
    if (!reported_ || now - last_report_ >= period_) {
        report_locked(now);
    }
}

void FailureDigest::succeeded(bool recovered, Clock::time_point now) {
    checks_.fetch_add(1, std::memory_order_relaxed);
    if (!recovered) {
        return;
    }
    Lock lock(mutex_);
    ++recovered_;
    if (!reported_ || now - last_report_ >= period_) {
        report_locked(now);
    }
}

void FailureDigest::tick(Clock::time_point now) {
    Lock lock(mutex_);
    if ((failures_ > 0 || recovered_ > 0) && now - last_report_ >= period_) {
        report_locked(now);
    }
}

void FailureDigest::flush() {
    Lock lock(mutex_);
    if (failures_ > 0 || recovered_ > 0) {
        report_locked(Clock::now());
    }
}

void FailureDigest::report_locked(Clock::time_point now) {
    std::string since = reported_
                            ? fmt::format(" in the last {}s",
                                          std::chrono::duration_cast<std::chrono::seconds>(now - last_report_).count())
                            : "";
    std::string changes;
    if (started_failing_ > 0) {
        changes += fmt::format("; {} site(s) started failing", started_failing_);
    }
    if (recovered_ > 0) {
        changes += fmt::format("; {} site(s) recovered", recovered_);
    }
    auto checks = checks_.exchange(0, std::memory_order_relaxed);
    if (failures_ == 0) {
        log_.info("{} of {} checks failed{}{}", failures_, checks, since, changes);
    } else {
        std::vector<std::pair<std::string, std::uint64_t>> kinds(by_kind_.begin(), by_kind_.end());
        std::stable_sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        std::string by;
        for (const auto& [kind, n] : kinds) {
            by += fmt::format("{}{} {}", by.empty() ? "" : ", ", kind, n);
        }
        std::string examples;
        for (const auto& e : examples_) {
            examples += fmt::format("{}{}", examples.empty() ? "" : "; ", e);
        }
        log_.warn("{} of {} checks failed{} ({}){}; for example {}", failures_, checks, since, by, changes, examples);
    }
    reported_ = true;
    last_report_ = now;
    failures_ = started_failing_ = recovered_ = 0;
    by_kind_.clear();
    examples_.clear();
}

void FailingSites::note(const std::string& site, std::string_view url, bool ok, std::string_view error,
                        std::string_view detail) {
    if (ok) {
        bool recovered = failing_.erase(site) > 0;
        if (recovered) {
            log_.debug("site=\"{}\" url={}: recovered", site, url);
        }
        digest_.succeeded(recovered);
        return;
    }
    bool started = failing_.insert(site).second;
    if (log_.enabled(LogLevel::Debug)) {
        log_.debug("site=\"{}\" url={}: {}: {}", site, url, error, detail);
    }
    digest_.failed(site, url, error, detail, started);
}

}  // namespace vigil::checks
