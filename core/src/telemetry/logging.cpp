// SPDX-License-Identifier: Apache-2.0
#include "telemetry/logging.hpp"

#include <mutex>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/pattern_formatter.h>

#include "vigil/text.hpp"
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "utf8.hpp"
#include "vigil/sync.hpp"

namespace vigil::telemetry {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
        case LogLevel::Trace: return spdlog::level::trace;
        case LogLevel::Debug: return spdlog::level::debug;
        case LogLevel::Info: return spdlog::level::info;
        case LogLevel::Warn: return spdlog::level::warn;
        case LogLevel::Error: return spdlog::level::err;
        case LogLevel::Off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

// One JSON object per line: {"time":..., "level":..., "logger":..., "message":...}. A custom
// formatter because a pattern cannot escape the message for JSON.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        w.StartObject();
        w.Key("time");
        auto time = time_.format(msg);
        w.String(time.data(), static_cast<rapidjson::SizeType>(time.size()));
        w.Key("level");
        auto level = spdlog::level::to_string_view(msg.level);
        w.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
        w.Key("logger");
        w.String(msg.logger_name.data(), static_cast<rapidjson::SizeType>(msg.logger_name.size()));
        w.Key("message");
        auto text = utf8_sanitize(std::string_view(msg.payload.data(), msg.payload.size()));
        w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        w.EndObject();
        dest.append(buf.GetString(), buf.GetString() + buf.GetSize());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }

  private:
    struct Time {
        spdlog::pattern_formatter f{"%Y-%m-%dT%H:%M:%S.%fZ", spdlog::pattern_time_type::utc, ""};
        std::string format(const spdlog::details::log_msg& msg) {
            spdlog::memory_buf_t b;
            f.format(msg, b);
            return std::string(b.data(), b.size());
        }
    } time_;
};

// The message of a text line with its control characters escaped: a site's name or a Kafka
// record's field holding "\n2026-... error ..." cannot forge a line of its own.
class EscapedMessage final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        auto text = escape_controls(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

struct State {
    Mutex mutex;
    std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink VIGIL_GUARDED_BY(mutex) =
        std::make_shared<spdlog::sinks::stderr_sink_mt>();
    LogLevel level VIGIL_GUARDED_BY(mutex) = LogLevel::Info;
    LogFormat format VIGIL_GUARDED_BY(mutex) = LogFormat::Text;

    std::unique_ptr<spdlog::formatter> formatter() const VIGIL_REQUIRES(mutex) {
        if (format == LogFormat::Json) {
            return std::make_unique<JsonFormatter>();
        }
        auto text = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        text->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l [%n] %*");
        return text;
    }
};

State& state() {
    static auto* s = new State();  // never destroyed: loggers may log during static teardown
    return *s;
}

}  // namespace

std::shared_ptr<spdlog::logger> get_or_create(const std::string& name) {
    auto& s = state();
    Lock lock(s.mutex);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto logger = std::make_shared<spdlog::logger>(name, s.sink);
    logger->set_level(to_spdlog(s.level));
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
    s.sink->set_formatter(s.formatter());
    return logger;
}

void configure_logging(LogLevel level, LogFormat format) {
    auto& s = state();
    Lock lock(s.mutex);
    s.level = level;
    s.format = format;
    s.sink->set_formatter(s.formatter());
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(to_spdlog(level)); });
}

LogLevel current_level() {
    auto& s = state();
    Lock lock(s.mutex);
    return s.level;
}

std::optional<LogLevel> parse_level(std::string_view text) {
    if (text == "trace")
        return LogLevel::Trace;
    if (text == "debug")
        return LogLevel::Debug;
    if (text == "info")
        return LogLevel::Info;
    if (text == "warn" || text == "warning")
        return LogLevel::Warn;
    if (text == "error")
        return LogLevel::Error;
    if (text == "off")
        return LogLevel::Off;
    return std::nullopt;
}

std::optional<LogFormat> parse_format(std::string_view text) {
    if (text == "text")
        return LogFormat::Text;
    if (text == "json")
        return LogFormat::Json;
    return std::nullopt;
}

}  // namespace vigil::telemetry

namespace vigil {

Logger::Logger() : Logger("agent") {}

Logger::Logger(std::string name) : name_(std::move(name)) { impl_ = telemetry::get_or_create(name_); }

bool Logger::enabled(LogLevel level) const noexcept {
    return static_cast<spdlog::logger*>(impl_.get())->should_log(telemetry::to_spdlog(level));
}

void Logger::log(LogLevel level, std::string_view message) const {
    static_cast<spdlog::logger*>(impl_.get())->log(telemetry::to_spdlog(level), "{}", message);
}

Complaint::Complaint(Duration first_interval, Duration max_interval)
    : first_(first_interval), max_(max_interval), interval_(first_interval) {}

bool Complaint::complain(Clock::time_point now) {
    if (!active_) {
        active_ = true;
        interval_ = first_;
        next_ = now + interval_;
        skipped_ = 0;
        suppressed_ = 0;
        return true;
    }
    if (now >= next_) {
        interval_ = std::min(interval_ * 2, max_);
        next_ = now + interval_;
        suppressed_ = skipped_;
        skipped_ = 0;
        return true;
    }
    ++skipped_;
    return false;
}

bool Complaint::release() {
    bool was = active_;
    active_ = false;
    suppressed_ = skipped_;
    skipped_ = 0;
    return was;
}

}  // namespace vigil
