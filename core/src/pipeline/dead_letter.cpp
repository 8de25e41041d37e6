// SPDX-License-Identifier: Apache-2.0
#include "pipeline/dead_letter.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "utf8.hpp"
#include "vigil/metrics.hpp"
#include "vigil/private_file.hpp"
#include "vigil/sync.hpp"

namespace vigil::pipeline {

DeadLetter::DeadLetter(std::string pipeline, DeadLetterOptions options)
    : pipeline_(std::move(pipeline)), options_(std::move(options)), log_("dead_letter") {}

DeadLetter::~DeadLetter() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

namespace {

std::string entry_json(const std::string& pipeline, const std::string& sink, const Record& record,
                       const std::string& reason) {
    auto record_json = encode_json(record.check);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto put = [&](const char* key, const std::string& value) {
        auto clean = utf8_sanitize(value);
        w.Key(key);
        w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
    };
    w.StartObject();
    put("time",
        format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now())));
    put("pipeline", pipeline);
    put("sink", sink);
    put("reason", reason);
    put("origin", record.origin);
    w.Key("record");
    w.RawValue(record_json.data(), record_json.size(), rapidjson::kObjectType);
    if (record.event) {
        // A record of the alerts pipeline: the event is what was refused (webhook_sink's 4xx).
        auto event_json = encode_event_json(*record.event);
        w.Key("event");
        w.RawValue(event_json.data(), event_json.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string rotated(const std::filesystem::path& file, unsigned n) { return file.string() + "." + std::to_string(n); }

}  // namespace

void DeadLetter::reopen() {
    Lock lock(mutex_);
    if (file_ != nullptr) {
        std::fclose(file_);
        file_ = nullptr;
    }
}

bool DeadLetter::rotate(std::string& error) {
    std::error_code ec;
    if (options_.keep == 0) {
        std::filesystem::remove(options_.file, ec);
    } else {
        std::filesystem::remove(rotated(options_.file, options_.keep), ec);
        for (unsigned n = options_.keep; n > 1; --n) {
            std::filesystem::rename(rotated(options_.file, n - 1), rotated(options_.file, n), ec);
        }
        ec.clear();
        std::filesystem::rename(options_.file, rotated(options_.file, 1), ec);
    }
    if (ec) {
        error = fmt::format("cannot rotate dead-letter file {}: {}", options_.file.string(), ec.message());
        return false;
    }
    log_.info(
        "dead-letter file {} reached {} bytes (dead_letter_max_size): {}", options_.file.string(), size_,
        options_.keep > 0 ? "moved to " + rotated(options_.file, 1) : std::string("deleted (dead_letter_keep: 0)"));
    size_ = 0;
    return true;
}

bool DeadLetter::write(const std::string& sink, const std::vector<Letter>& letters, std::string& error) {
    static Counter& written = counter("vigil_dead_letter_records_total", {},
                                      "Records refused for good by a sink and dead-lettered by the core");
    if (letters.empty()) {
        return true;
    }
    Lock lock(mutex_);
    if (options_.file.empty()) {
        for (const auto& l : letters) {
            log_.error("{}: record refused for good ({}){}: {}", sink, l.reason,
                       l.record->origin.empty() ? "" : " " + l.record->origin,
                       entry_json(pipeline_, sink, *l.record, l.reason));
        }
        written.inc(letters.size());
        return true;
    }
    std::string lines;
    for (const auto& l : letters) {
        lines += entry_json(pipeline_, sink, *l.record, l.reason);
        lines += '\n';
    }
    bool over = options_.max_size > 0 && size_ > 0 && size_ + lines.size() > options_.max_size;
    if (file_ != nullptr && over) {
        std::fclose(file_);
        file_ = nullptr;
    }
    if (file_ == nullptr) {
        std::error_code ec;
        auto size = std::filesystem::file_size(options_.file, ec);
        size_ = ec ? 0 : size;
        over = options_.max_size > 0 && size_ > 0 && size_ + lines.size() > options_.max_size;
        if (over && !rotate(error)) {
            return false;
        }
        file_ = open_private_append(options_.file.string());
        if (file_ == nullptr) {
            error = fmt::format("cannot open dead-letter file {}: {}", options_.file.string(), std::strerror(errno));
            return false;
        }
    }
    if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() || std::fflush(file_) != 0 ||
        ::fsync(::fileno(file_)) != 0) {
        error = fmt::format("cannot write dead-letter file {}: {}", options_.file.string(), std::strerror(errno));
        // Whatever part reached the file is repeated by the retry: a reader may see an entry
        // twice, never zero times. Reopen, so a file that was deleted or moved is made again.
        std::fclose(file_);
        file_ = nullptr;
        return false;
    }
    size_ += lines.size();
    written.inc(letters.size());
    return true;
}

}  // namespace vigil::pipeline
