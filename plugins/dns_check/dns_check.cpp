// SPDX-License-Identifier: Apache-2.0
#include "dns_check.hpp"

#include <fmt/core.h>

#include "outbox.hpp"

namespace vigil::plugins::dns_check {

DnsCheck::DnsCheck(Config config, std::string instance, std::string agent, Logger log)
    : instance_(std::move(instance)), agent_(std::move(agent)), log_(std::move(log)), config_(std::move(config)) {}

Status DnsCheck::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    checks::Outbox outbox(out, "dns_check", {{"instance", instance_}}, log_);
    std::optional<Prober> prober;
    {
        Lock lock(mutex_);
        try {
            prober.emplace(Prober::Identity{instance_, agent_, config_.location}, log_, outbox, stop, options.once);
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

bool DnsCheck::reload(const ConfigNode& node, Diagnostics& diags) {
    auto next = parse_config(node, diags);
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

}  // namespace vigil::plugins::dns_check
