// SPDX-License-Identifier: Apache-2.0
// Logging for plugins: one named logger per plugin instance ("kafka_sink.0"), and the
// rate-limited complaint shape of collectd's c_complain for conditions that persist.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "vigil/config.hpp"
#include "vigil/visibility.hpp"

namespace vigil {

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };

/// A named logger. Cheap to copy; thread-safe. Output format (text or JSON), level and
/// destination are the agent's (--log-level, --log-format, the pipeline's `log:`).
class VIGIL_API Logger {
  public:
    /// The agent's own logger ("agent").
    Logger();
    /// The logger named `name`, created on first use with the agent's settings.
    explicit Logger(std::string name);

    const std::string& name() const noexcept { return name_; }
    bool enabled(LogLevel level) const noexcept;
    void log(LogLevel level, std::string_view message) const;

    template <typename... Args>
    void debug(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::Debug, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void info(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::Info, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void warn(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::Warn, f, std::forward<Args>(args)...);
    }
    template <typename... Args>
    void error(fmt::format_string<Args...> f, Args&&... args) const {
        emit(LogLevel::Error, f, std::forward<Args>(args)...);
    }

  private:
    template <typename... Args>
    void emit(LogLevel level, fmt::format_string<Args...> f, Args&&... args) const {
        if (enabled(level)) {
            log(level, fmt::format(f, std::forward<Args>(args)...));
        }
    }
    std::string name_;
    std::shared_ptr<void> impl_;  // spdlog::logger, kept out of the SDK's types
};

/// Log-once-then-back-off for a condition that persists (broker down, site failing), and a
/// single recovery line when it clears. Not thread-safe: one per condition, used by one thread.
class VIGIL_API Complaint {
  public:
    using Clock = std::chrono::steady_clock;
    explicit Complaint(Duration first_interval = std::chrono::seconds(10),
                       Duration max_interval = std::chrono::hours(1));

    /// Records one occurrence. Returns true when this one should be logged: the first, then
    /// after intervals that double up to the maximum. suppressed() tells how many were skipped.
    bool complain(Clock::time_point now = Clock::now());
    /// After complain() returned true, or after release(): how many occurrences went unlogged
    /// before this one, for a "(N more suppressed)" suffix.
    std::uint64_t suppressed() const noexcept { return suppressed_; }
    /// Clears the condition. Returns true if it was active: the caller logs the recovery once.
    bool release();
    bool active() const noexcept { return active_; }

  private:
    Duration first_, max_, interval_;
    Clock::time_point next_{};
    std::uint64_t suppressed_ = 0;
    std::uint64_t skipped_ = 0;
    bool active_ = false;
};

}  // namespace vigil
