// SPDX-License-Identifier: Apache-2.0
#include "pipeline/dead_letter.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "record/utf8.hpp"
#include "vigil/metrics.hpp"

namespace vigil::pipeline {

DeadLetter::DeadLetter(std::string pipeline, std::filesystem::path file)
    : pipeline_(std::move(pipeline)), path_(std::move(file)), log_("dead_letter") {}

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
    put("time", format_timestamp(std::chrono::time_point_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now())));
    put("pipeline", pipeline);
    put("sink", sink);
    put("reason", reason);
    put("origin", record.origin);
    w.Key("record");
    w.RawValue(record_json.data(), record_json.size(), rapidjson::kObjectType);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

void DeadLetter::write(const std::string& sink, const std::vector<Letter>& letters) {
    static Counter& written = counter("vigil_dead_letter_records_total", {},
                                      "Records refused for good by a sink and dead-lettered by the core");
    if (letters.empty()) {
        return;
    }
    std::string lines;
    for (const auto& l : letters) {
        lines += entry_json(pipeline_, sink, *l.record, l.reason);
        lines += '\n';
    }
    written.inc(letters.size());

    std::lock_guard lock(mutex_);
    if (path_.empty()) {
        for (const auto& l : letters) {
            log_.error("{}: record refused for good ({}){}: {}", sink, l.reason,
                       l.record->origin.empty() ? "" : " " + l.record->origin,
                       entry_json(pipeline_, sink, *l.record, l.reason));
        }
        return;
    }
    if (file_ == nullptr) {
        file_ = std::fopen(path_.c_str(), "a");
    }
    if (file_ == nullptr || std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() ||
        std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
        // The file is the last resort; if it fails, the log still carries every record.
        log_.error("{}: cannot write dead-letter file {}: {}; the {} entries follow", sink, path_.string(),
                   std::strerror(errno), letters.size());
        for (const auto& l : letters) {
            log_.error("{}: record refused for good ({}): {}", sink, l.reason,
                       entry_json(pipeline_, sink, *l.record, l.reason));
        }
    }
}

}  // namespace vigil::pipeline
