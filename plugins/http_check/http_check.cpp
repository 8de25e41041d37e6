// SPDX-License-Identifier: Apache-2.0
#include "http_check.hpp"

#include <malloc.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <unordered_map>

#include <fmt/core.h>

#include "worker.hpp"

namespace vigil::plugins::http_check {

HttpCheck::HttpCheck(Config config, std::string instance, std::string agent, Logger log)
    : config_(std::move(config)),
      shared_(std::make_unique<WorkerShared>(std::move(instance), std::move(agent), std::move(log))),
      log_(shared_->log) {}

HttpCheck::~HttpCheck() = default;

std::size_t HttpCheck::worker_of(const std::string& name, std::size_t workers) {
    // The high half of the hash: the low half sets the schedule phase.
    return static_cast<std::size_t>((stable_hash(name) >> 32) % workers);
}

void HttpCheck::offer(const Config& c) {
    std::vector<std::vector<std::shared_ptr<const Site>>> parts(workers_.size());
    for (const auto& s : c.sites) {
        parts[worker_of(s->name, workers_.size())].push_back(s);
    }
    std::size_t per_worker = (c.max_concurrency + workers_.size() - 1) / workers_.size();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->offer(std::move(parts[i]), per_worker, c.batch_size, c.batch_delay);
    }
}

Status HttpCheck::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    // Loading a large site list leaves the heap full of freed YAML nodes; hand that memory back
    // to the system before settling into the steady state.
    ::malloc_trim(0);
    Outbox outbox(out, {{"instance", shared_->instance}}, log_);
    // parse_config makes workers at least 1; no more workers than sites.
    std::size_t n = std::min(config_.workers, std::max<std::size_t>(1, config_.sites.size()));
    {
        std::lock_guard lock(reload_mutex_);
        try {
            for (std::size_t i = 0; i < n; ++i) {
                workers_.push_back(std::make_unique<Worker>(*shared_, outbox, stop, options.once, 1));
            }
        } catch (const std::exception& e) {
            workers_.clear();
            return Status::error(fmt::format("cannot start a worker: {}", e.what()));
        }
        offer(config_);
    }
    log_.info("checking {} sites{} with {} worker{}, at most {} in flight", config_.sites.size(),
              config_.shard.count > 1
                  ? fmt::format(" (shard {}/{} of {})", config_.shard.index, config_.shard.count, config_.sites_total)
                  : "",
              n, n == 1 ? "" : "s", config_.max_concurrency);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < n; ++i) {
        threads.emplace_back([w = workers_[i].get()] { w->run(); });
    }
    workers_[0]->run();
    for (auto& t : threads) {
        t.join();
    }
    outbox.close();
    shared_->digest.flush();
    std::lock_guard lock(reload_mutex_);
    workers_.clear();
    return Status::success();
}

bool HttpCheck::reload(const ConfigNode& node, Diagnostics& diags) {
    auto next = parse_config(node, diags);
    if (!next) {
        return false;
    }
    std::lock_guard lock(reload_mutex_);
    std::unordered_map<std::string, const Site*> old;
    for (const auto& s : config_.sites) {
        old.emplace(s->name, s.get());
    }
    std::size_t added = 0, changed = 0, kept = 0;
    for (const auto& s : next->sites) {
        auto it = old.find(s->name);
        if (it == old.end()) {
            ++added;
        } else {
            ++(it->second->same_as(*s) ? kept : changed);
            old.erase(it);
        }
    }
    log_.info("reload: {} sites added, {} removed, {} changed, {} unchanged", added, old.size(), changed, kept);
    if (next->workers != config_.workers && !workers_.empty()) {
        log_.warn("reload: a change of workers takes effect at restart");
    }
    next->workers = config_.workers;
    config_ = std::move(*next);
    if (!workers_.empty()) {
        offer(config_);
    }
    return true;
}

}  // namespace vigil::plugins::http_check
