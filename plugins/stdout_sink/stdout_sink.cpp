// SPDX-License-Identifier: Apache-2.0
#include "stdout_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "vigil/private_file.hpp"

namespace vigil::plugins::stdout_sink {

StdoutSink::StdoutSink(Config config, Logger log) : config_(std::move(config)), log_(std::move(log)) {}

StdoutSink::~StdoutSink() { stop(); }

std::string StdoutSink::where() const { return config_.path.empty() ? "standard output" : config_.path.string(); }

Status StdoutSink::start() {
    if (config_.path.empty()) {
        out_ = stdout;
        return Status::success();
    }
    out_ = open_private_append(config_.path.string());
    if (out_ == nullptr) {
        return Status::error(fmt::format("{}: cannot open {}: {}", log_.name(), where(), std::strerror(errno)));
    }
    owns_ = true;
    return Status::success();
}

std::string StdoutSink::format_batch(const Batch& batch) {
    std::string buf;
    buf.reserve(batch.records.size() * 512);
    for (const auto& r : batch.records) {
        if (r.event) {
            buf += encode_event_json(*r.event);  // the alerts pipeline: the event is the record
        } else {
            encode_json(r.check, buf);
        }
        buf += '\n';
    }
    return buf;
}

WriteResult StdoutSink::write(const Batch& batch) {
    auto buf = format_batch(batch);
    // A short write leaves a partial line; the retry appends the whole batch again, so a reader
    // may see one truncated line, never a lost record.
    if (std::fwrite(buf.data(), 1, buf.size(), out_) != buf.size() || std::fflush(out_) != 0) {
        int err = errno;
        std::clearerr(out_);
        return WriteResult::retry(fmt::format("{}: write to {} failed: {}", log_.name(), where(), std::strerror(err)));
    }
    if (config_.fsync && owns_ && ::fsync(::fileno(out_)) != 0) {
        return WriteResult::retry(
            fmt::format("{}: fsync of {} failed: {}", log_.name(), where(), std::strerror(errno)));
    }
    return WriteResult::accepted();
}

void StdoutSink::stop() {
    if (owns_ && out_ != nullptr) {
        std::fclose(out_);
    } else if (out_ != nullptr) {
        std::fflush(out_);
    }
    out_ = nullptr;
    owns_ = false;
}

Status StdoutSink::healthcheck() {
    if (config_.path.empty()) {
        return Status::success();
    }
    auto dir = config_.path.parent_path();
    if (::access(dir.c_str(), W_OK) != 0) {
        return Status::error(fmt::format("cannot write in {}: {}", dir.string(), std::strerror(errno)));
    }
    return Status::success();
}

}  // namespace vigil::plugins::stdout_sink
