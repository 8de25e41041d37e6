// SPDX-License-Identifier: Apache-2.0
// The Source of a check plugin whose checks run on one prober thread (tcp_check, dns_check,
// icmp_check): one more thread, the shared outbox, hands finished batches to the pipeline, so
// backpressure never stalls the timing of checks in flight. A reload validates the new options
// and hands them to the prober: new sites start, removed ones stop, unchanged ones keep their
// schedule.
#pragma once

#include <optional>
#include <string>

#include <fmt/core.h>

#include "outbox.hpp"
#include "vigil/config.hpp"
#include "vigil/log.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

/// `Prober` is made from {instance, agent, location}, a logger, the outbox, the stop token and
/// whether to check once; it takes configurations with offer() and checks in run().
template <class Config, class Prober, std::optional<Config> (*Parse)(const ConfigNode&, Diagnostics&)>
class CheckSource final : public Source {
  public:
    CheckSource(std::string plugin, Config config, std::string instance, std::string agent, Logger log)
        : plugin_(std::move(plugin)), instance_(std::move(instance)), agent_(std::move(agent)), log_(std::move(log)),
          config_(std::move(config)) {}

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override {
        Outbox outbox(out, plugin_, {{"instance", instance_}}, log_);
        std::optional<Prober> prober;
        {
            Lock lock(mutex_);
            try {
                prober.emplace(typename Prober::Identity{instance_, agent_, config_.location}, log_, outbox, stop,
                               options.once);
            } catch (const std::exception& e) {
                return Status::error(fmt::format("{}: cannot start: {}", instance_, e.what()));
            }
            prober->offer(config_);
            prober_ = &*prober;
            log_.info("checking {} sites{}, at most {} in flight", config_.sites.size(),
                      config_.shard.count > 1 ? fmt::format(" (shard {}/{} of {})", config_.shard.index,
                                                            config_.shard.count, config_.sites_total)
                                              : "",
                      config_.max_concurrency);
        }
        prober->run();
        {
            Lock lock(mutex_);
            prober_ = nullptr;
        }
        outbox.close();
        return Status::success();
    }

    bool supports_once() const override { return true; }
    bool supports_reload() const override { return true; }

    bool reload(const ConfigNode& node, Diagnostics& diags) override {
        auto next = Parse(node, diags);
        if (!next) {
            return false;
        }
        Lock lock(mutex_);
        if (next->location != config_.location && prober_ != nullptr) {
            log_.warn("reload: a change of location takes effect at restart");
            next->location = config_.location;
        }
        log_.info("reload: {} sites", next->sites.size());
        config_ = std::move(*next);
        if (prober_ != nullptr) {
            prober_->offer(config_);
        }
        return true;
    }

  private:
    std::string plugin_;
    std::string instance_;
    std::string agent_;
    Logger log_;
    Mutex mutex_;
    Config config_ VIGIL_GUARDED_BY(mutex_);
    Prober* prober_ VIGIL_GUARDED_BY(mutex_) = nullptr;  // during run()
};

}  // namespace vigil::checks
