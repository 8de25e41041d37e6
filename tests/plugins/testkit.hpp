// SPDX-License-Identifier: Apache-2.0
// Small plugins for the core's tests: a counting source and a flaky, slow or stalling sink.
// Used in-process by the pipeline unit tests and built as real .so plugins for the agent tests.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "vigil/plugin.hpp"

namespace vigil::testkit {

inline const OptionSpec kCountingSourceOptions[] = {
    {.key = "count",
     .type = OptionType::Int,
     .default_value = "100",
     .description = "Records to emit; 0 emits until stopped"},
    {.key = "batch_size", .type = OptionType::Int, .default_value = "10", .description = "Records per batch"},
    {.key = "interval", .type = OptionType::Duration, .default_value = "0s", .description = "Pause between batches"},
    {.key = "sites",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "0: every record names a site of its own. N: records cycle over N sites, each site's "
                    "checks 1 ms apart, the last 3 of every 50 failed (an outage: a down and an up event)"},
    {.key = "locations",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "With sites: 0: checks name no location. L: each site's checks go round L locations "
                    "(loc-0 ..); one of them (the site's number mod L) fails rounds 15-17 of every 33: one partial "
                    "outage a site in 100 checks, as the plain records have about one outage"},
    {.key = "label",
     .type = OptionType::String,
     .default_value = "site",
     .description = "Record name prefix; reloadable with SIGHUP"},
    {.key = "ack_file",
     .type = OptionType::String,
     .default_value = "",
     .description = "File to append \"<first record> <count> <status> <label>\" to on each acknowledgement"},
    {},
};

/// Emits records "<label>-<n>" with check_id "<n>", n = 0, 1, 2...
class CountingSource final : public Source {
  public:
    struct Ack {
        std::uint64_t first;
        std::size_t size;
        AckStatus status;
    };
    CountingSource(std::int64_t count, std::int64_t batch, Duration interval, std::string label,
                   std::string ack_file = {}, std::int64_t sites = 0, std::int64_t locations = 0)
        : count_(count), batch_(std::max<std::int64_t>(1, batch)), interval_(interval), label_(std::move(label)),
          ack_file_(std::move(ack_file)), sites_(std::max<std::int64_t>(0, sites)),
          locations_(std::max<std::int64_t>(0, locations)) {}

    static std::unique_ptr<Source> make(const PluginContext&, const ConfigNode& n, Diagnostics& d) {
        if (n.get_int("batch_size") < 1) {
            d.error(n.location_of("batch_size"), n.path_of("batch_size"), "must be at least 1");
            return nullptr;
        }
        return std::make_unique<CountingSource>(
            n.get_int("count"), n.get_int("batch_size"), n.get_duration("interval"), n.get_string("label"),
            n.resolve_path(n.get_string("ack_file")).string(), n.get_int("sites"), n.get_int("locations"));
    }

    bool supports_once() const override { return true; }
    bool supports_reload() const override { return true; }
    bool reload(const ConfigNode& n, Diagnostics&) override {
        std::lock_guard lock(mutex_);
        label_ = n.get_string("label");
        return true;
    }

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override {
        std::uint64_t n = 0;
        while (!stop.stop_requested() && (count_ == 0 || n < static_cast<std::uint64_t>(count_))) {
            Batch b;
            std::uint64_t first = n;
            std::string label;
            {
                std::lock_guard lock(mutex_);
                label = label_;
            }
            for (std::int64_t i = 0; i < batch_ && (count_ == 0 || n < static_cast<std::uint64_t>(count_)); ++i, ++n) {
                CheckRecord r;
                r.name = fmt::format("{}-{}", label, n);
                r.url = fmt::format("http://127.0.0.1/{}", n);
                r.response_time = 1.5;
                r.status_code = 200;
                r.check_id = std::to_string(n);
                r.timestamp = Timestamp(std::chrono::seconds(1'700'000'000));
                if (sites_ > 0) {
                    auto site = static_cast<std::int64_t>(n) % sites_, k = static_cast<std::int64_t>(n) / sites_;
                    r.name = fmt::format("{}-{}", label, site);
                    r.timestamp += std::chrono::milliseconds(n);
                    r.ok = k % 50 < 47;
                    if (locations_ > 0) {
                        auto j = k % locations_, round = k / locations_;
                        r.location = fmt::format("loc-{}", j);
                        r.ok = j != site % locations_ || round % 33 < 15 || round % 33 >= 18;
                    }
                    if (!*r.ok) {
                        r.status_code.reset();
                        r.error = "connect";
                        r.error_detail = "Connection refused";
                    }
                }
                b.records.push_back(Record{std::move(r), {}});
            }
            std::size_t size = b.records.size();
            emitted_ += size;
            if (!out.emit(std::move(b), [this, first, size](AckStatus s) { on_ack(first, size, s); })) {
                emitted_ -= size;
                break;
            }
            if (interval_ > Duration::zero() && stop.wait_for(interval_)) {
                break;
            }
        }
        if (!options.once) {
            while (!stop.wait_for(std::chrono::seconds(1))) {
            }
        }
        return Status::success();
    }

    std::vector<Ack> acks() const {
        std::lock_guard lock(mutex_);
        return acks_;
    }
    std::uint64_t emitted() const { return emitted_.load(); }
    /// Set by tests: called on every ack before it is recorded.
    std::function<void(std::uint64_t first, std::size_t size, AckStatus)> on_ack_hook;

  private:
    void on_ack(std::uint64_t first, std::size_t size, AckStatus s) {
        if (on_ack_hook) {
            on_ack_hook(first, size, s);
        }
        std::lock_guard lock(mutex_);
        acks_.push_back({first, size, s});
        if (!ack_file_.empty()) {
            if (std::FILE* f = std::fopen(ack_file_.c_str(), "a")) {
                std::fprintf(f, "%llu %zu %s %s\n", static_cast<unsigned long long>(first), size,
                             s == AckStatus::Delivered ? "delivered" : "undelivered", label_.c_str());
                std::fclose(f);
            }
        }
    }

    std::int64_t count_, batch_;
    Duration interval_;
    mutable std::mutex mutex_;
    std::string label_;
    std::string ack_file_;
    std::int64_t sites_ = 0;
    std::int64_t locations_ = 0;
    std::vector<Ack> acks_;
    std::atomic<std::uint64_t> emitted_{0};
};

inline const OptionSpec kFlakySinkOptions[] = {
    {.key = "fail_first",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "The first N writes fail transiently"},
    {.key = "reject_every",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "Refuse for good every Nth record (by check_id); 0 refuses none"},
    {.key = "delay",
     .type = OptionType::Duration,
     .default_value = "0s",
     .description = "Time each write takes (a slow sink); interruptible"},
    {.key = "stall",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "Block every write until interrupted (a stalled sink)"},
    {.key = "path",
     .type = OptionType::String,
     .default_value = "",
     .description = "File to append accepted records to, one JSON line each"},
    {},
};

/// Accepts records, after `fail_first` transient failures, `delay` per write, refusing every
/// `reject_every`-th check_id for good.
class FlakySink final : public Sink {
  public:
    FlakySink(std::int64_t fail_first, std::int64_t reject_every, Duration delay, bool stall, std::string path = {},
              Batching batching = {})
        : fail_first_(fail_first), reject_every_(reject_every), delay_(delay), stall_(stall), path_(std::move(path)),
          batching_(batching) {}

    Batching batching() const override { return batching_; }

    static std::unique_ptr<Sink> make(const PluginContext&, const ConfigNode& n, Diagnostics&) {
        return std::make_unique<FlakySink>(n.get_int("fail_first"), n.get_int("reject_every"), n.get_duration("delay"),
                                           n.get_bool("stall"), n.resolve_path(n.get_string("path")).string());
    }

    WriteResult write(const Batch& batch) override {
        ++writes_;
        {
            std::unique_lock lock(mutex_);
            in_write_ = true;
            auto until = [&] { return interrupted_; };
            if (stall_) {
                cv_.wait(lock, until);
            } else if (delay_ > Duration::zero()) {
                cv_.wait_for(lock, delay_, until);
            }
            in_write_ = false;
            if (interrupted_) {
                return WriteResult::retry("interrupted");
            }
        }
        if (failures_ < fail_first_) {
            ++failures_;
            return WriteResult::retry(fmt::format("flaky_sink: simulated failure {}", failures_.load()));
        }
        if (down_) {
            return WriteResult::retry("flaky_sink: down");
        }
        std::vector<Rejection> rejected;
        std::string lines;
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < batch.records.size(); ++i) {
            const auto& r = batch.records[i].check;
            auto id = std::stoull(r.check_id);
            if (reject_every_ > 0 && (id + 1) % static_cast<std::uint64_t>(reject_every_) == 0) {
                rejected.push_back({i, fmt::format("record {} is unacceptable", id), false});
                continue;
            }
            committed_.insert(id);
            accepted_.push_back(id);
            encode_json(r, lines);
            lines += '\n';
        }
        if (!path_.empty()) {
            if (std::FILE* f = std::fopen(path_.c_str(), "a")) {
                std::fwrite(lines.data(), 1, lines.size(), f);
                std::fclose(f);
            }
        }
        return WriteResult::accepted_except(std::move(rejected));
    }

    void interrupt() override {
        std::lock_guard lock(mutex_);
        interrupted_ = true;
        cv_.notify_all();
    }

    void stop() override { stopped_ = true; }

    bool committed(std::uint64_t id) const {
        std::lock_guard lock(mutex_);
        return committed_.count(id) > 0;
    }
    std::size_t committed_count() const {
        std::lock_guard lock(mutex_);
        return committed_.size();
    }
    bool in_write() const {
        std::lock_guard lock(mutex_);
        return in_write_;
    }
    std::uint64_t writes() const { return writes_.load(); }
    /// While down, every write fails transiently (an outage a test ends when it likes).
    void set_down(bool down) { down_ = down; }
    /// Every record accepted, in order of acceptance, with repeats (check_id as a number).
    std::vector<std::uint64_t> accepted() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }
    bool stopped() const { return stopped_.load(); }

  private:
    std::int64_t fail_first_, reject_every_;
    Duration delay_;
    bool stall_;
    std::string path_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool interrupted_ = false;
    bool in_write_ = false;
    std::set<std::uint64_t> committed_;
    std::vector<std::uint64_t> accepted_;
    std::atomic<bool> down_{false};
    std::atomic<std::int64_t> failures_{0};
    std::atomic<std::uint64_t> writes_{0};
    std::atomic<bool> stopped_{false};
    Batching batching_;
};

// `agent echo ARGS... --pipeline P`: the plugin-command path of the agent, seen from a plugin.
// Prints its arguments and the section as JSON; `fail` as the first word exits 1, `bad` records
// a located error about the section.
inline int echo_command(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags) {
    if (!ctx.args.empty() && ctx.args[0] == "fail") {
        *ctx.err << "echo: failing as asked\n";
        return 1;
    }
    if (!ctx.args.empty() && ctx.args[0] == "bad") {
        diags.error(section.location_of("count"), section.path_of("count"), "echo: not a count I like");
        return 78;
    }
    for (const auto& a : ctx.args) {
        *ctx.out << a << '\n';
    }
    *ctx.out << section.to_json() << '\n' << ctx.instance << '\n';
    return 0;
}

inline const PluginCommand kCountingSourceCommands[] = {
    {.name = "echo", .usage = "WORDS...", .description = "Prints its words and the section", .run = &echo_command},
    {},
};

}  // namespace vigil::testkit
