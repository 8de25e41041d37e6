// SPDX-License-Identifier: Apache-2.0
#include "http_check.hpp"

#include <malloc.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <unordered_map>

#include <fmt/core.h>

#include "kafka_client.hpp"
#include "worker.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

HttpCheck::HttpCheck(Config config, std::string instance, std::string agent, Logger log)
    : config_(std::move(config)),
      shared_(std::make_unique<WorkerShared>(std::move(instance), std::move(agent), std::move(log))),
      log_(shared_->log) {}

HttpCheck::~HttpCheck() = default;

Status HttpCheck::healthcheck() {
    if (!config_.sites_topic) {
        return Status::success();
    }
    auto st = kafka::probe(config_.sites_topic->connection, config_.sites_topic->topic, log_);
    if (!st.ok() && st.message().find("does not exist") != std::string::npos) {
        return Status::error("sites_topic: " + st.message() + "; `agent sites import` or `add` creates it");
    }
    return st.ok() ? st : Status::error("sites_topic: " + st.message());
}

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
    offered_.resize(workers_.size());
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        offered_[i] = workers_[i]->offer(std::move(parts[i]), per_worker, c.batch_size, c.batch_delay);
    }
}

void HttpCheck::publish_sites(std::vector<std::shared_ptr<const Site>> sites, bool wait) {
    Lock lock(reload_mutex_);
    config_.sites = std::move(sites);
    if (workers_.empty()) {
        return;
    }
    offer(config_);
    if (!wait || !running_) {
        return;
    }
    auto want = offered_;
    lock.unlock();
    Lock applied(shared_->applied_mutex);
    // Under reload_mutex_ too: run() may end and remove the workers meanwhile (never the other
    // way round: nothing takes applied_mutex under reload_mutex_).
    bool done = shared_->applied.wait_for(applied.native(), std::chrono::seconds(2),
                                          [&]() VIGIL_REQUIRES(shared_->applied_mutex) {
                                              Lock workers(reload_mutex_);
                                              if (!running_ || workers_.size() < want.size()) {
                                                  return true;
                                              }
                                              for (std::size_t i = 0; i < want.size(); ++i) {
                                                  if (workers_[i]->applied() < want[i]) {
                                                      return false;
                                                  }
                                              }
                                              return true;
                                          });
    if (!done) {
        log_.warn("sites topic: the workers took more than 2 s to stop the sites of a revoked partition");
    }
}

Status HttpCheck::run(Emitter& out, const StopToken& stop, const RunOptions& options) {
    // Loading a large site list leaves the heap full of freed YAML nodes; hand that memory back
    // to the system before settling into the steady state.
    ::malloc_trim(0);
    Outbox outbox(out, "http_check", {{"instance", shared_->instance}}, log_);
    if (options.once && config_.sites_topic) {
        return Status::error(
            "--once: with sites_topic the sites arrive as the group assigns them; run without "
            "--once, or list the sites in a file");
    }
    // parse_config makes workers at least 1; no more workers than sites (a topic brings its later).
    std::size_t n = config_.sites_topic ? config_.workers
                                        : std::min(config_.workers, std::max<std::size_t>(1, config_.sites.size()));
    shared_->location = config_.location.empty() ? shared_->agent : config_.location;
    // The workers run without the lock: only this function adds or removes them, and it does so
    // under the lock, before they run and after they stopped.
    std::vector<Worker*> running;
    {
        Lock lock(reload_mutex_);
        try {
            for (std::size_t i = 0; i < n; ++i) {
                workers_.push_back(std::make_unique<Worker>(*shared_, outbox, stop, options.once, 1));
                running.push_back(workers_.back().get());
            }
        } catch (const std::exception& e) {
            workers_.clear();
            return Status::error(fmt::format("cannot start a worker: {}", e.what()));
        }
        offer(config_);
        running_ = true;
    }
    if (config_.sites_topic) {
        Lock topic_lock(topic_mutex_);
        auto policy = config_.sites_topic->policy;
        sites_topic_ = std::make_unique<checks::SitesTopic<Site>>(
            *config_.sites_topic, checks::SitesTopicBase::Kind{"http_check", "http"}, kSiteOptions, config_.plugin,
            [policy] {
                // A fresh cache at each reload: the defaults its patterns and warnings came from changed.
                return [policy, cache = std::make_shared<SiteCache>()](const ConfigNode& plugin,
                                                                       const ConfigNode& entry, Diagnostics& diags) {
                    return read_site(plugin, entry, diags, *cache, &policy);
                };
            },
            shared_->instance, log_,
            [this](std::vector<std::shared_ptr<const Site>> sites, bool wait) {
                publish_sites(std::move(sites), wait);
            });
        if (auto st = sites_topic_->start(); !st.ok()) {
            sites_topic_.reset();
            Lock lock(reload_mutex_);
            running_ = false;
            workers_.clear();
            return st;
        }
    }
    log_.info("checking {} sites{} with {} worker{}, at most {} in flight", config_.sites.size(),
              config_.shard.count > 1
                  ? fmt::format(" (shard {}/{} of {})", config_.shard.index, config_.shard.count, config_.sites_total)
                  : "",
              n, n == 1 ? "" : "s", config_.max_concurrency);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < n; ++i) {
        threads.emplace_back([w = running[i]] { w->run(); });
    }
    running[0]->run();
    for (auto& t : threads) {
        t.join();
    }
    {
        Lock lock(reload_mutex_);
        running_ = false;
    }
    {
        Lock topic_lock(topic_mutex_);
        sites_topic_.reset();  // leaves the group: the others take its sites over at once
    }
    outbox.close();
    shared_->digest.flush();
    Lock lock(reload_mutex_);
    workers_.clear();
    return Status::success();
}

bool HttpCheck::reload(const ConfigNode& node, Diagnostics& diags) {
    auto next = parse_config(node, diags);
    if (!next) {
        return false;
    }
    Lock lock(reload_mutex_);
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
            ++(*it->second == *s ? kept : changed);
            old.erase(it);
        }
    }
    log_.info("reload: {} sites added, {} removed, {} changed, {} unchanged", added, old.size(), changed, kept);
    if (next->workers != config_.workers && !workers_.empty()) {
        log_.warn("reload: a change of workers takes effect at restart");
    }
    if (next->location != config_.location && !workers_.empty()) {
        log_.warn("reload: a change of location takes effect at restart");
    }
    if (checks::topic_membership_changed(config_.sites_topic, next->sites_topic)) {
        log_.warn("reload: a change of sites_topic takes effect at restart");
        next->sites_topic = config_.sites_topic;
    }
    next->workers = config_.workers;
    next->location = config_.location;
    if (config_.sites_topic) {
        next->sites = config_.sites;  // the topic's, until it reads them again with the new defaults
    }
    config_ = std::move(*next);
    if (!workers_.empty()) {
        offer(config_);
    }
    auto plugin = config_.plugin;
    lock.unlock();
    Lock topic_lock(topic_mutex_);
    if (sites_topic_) {
        sites_topic_->reload(plugin);
    }
    return true;
}

}  // namespace vigil::plugins::http_check
