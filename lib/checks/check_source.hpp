// SPDX-License-Identifier: Apache-2.0
// The Source of a check plugin whose checks run on one prober thread (tcp_check, dns_check,
// icmp_check): one more thread, the shared outbox, hands finished batches to the pipeline, so
// backpressure never stalls the timing of checks in flight. A reload validates the new options
// and hands them to the prober: new sites start, removed ones stop, unchanged ones keep their
// schedule. With sites_topic, the sites of the kind come from the topic as the group assigns them.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include "check_kind.hpp"
#include "kafka_client.hpp"
#include "outbox.hpp"
#include "sites_topic.hpp"
#include "vigil/config.hpp"
#include "vigil/log.hpp"
#include "vigil/source.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

/// `Prober` is made from {instance, agent, location}, a logger, the outbox, the stop token and
/// whether to check once; it takes configurations with offer() (returning the offer's number,
/// for offers().wait_applied) and checks in run().
template <class Config, class Prober, std::optional<Config> (*Parse)(const ConfigNode&, Diagnostics&)>
class CheckSource final : public Source {
  public:
    using Site = std::remove_const_t<typename decltype(Config::sites)::value_type::element_type>;

    CheckSource(const CheckKind<Site>& kind, Config config, std::string instance, std::string agent, Logger log)
        : kind_(kind), plugin_(kind.plugin), instance_(std::move(instance)), agent_(std::move(agent)),
          log_(std::move(log)), config_(std::move(config)) {}

    /// With sites_topic: the brokers answer and the topic exists (--check-config --with-environment).
    Status healthcheck() override {
        std::optional<SitesTopicConfig> topic;
        {
            Lock lock(mutex_);
            topic = config_.sites_topic;
        }
        if (!topic) {
            return Status::success();
        }
        auto st = plugins::kafka::probe(topic->connection, topic->topic, log_);  // seconds, without the lock
        if (!st.ok() && st.message().find("does not exist") != std::string::npos) {
            return Status::error("sites_topic: " + st.message() + "; `agent sites import` or `add` creates it");
        }
        return st.ok() ? st : Status::error("sites_topic: " + st.message());
    }

    Status run(Emitter& out, const StopToken& stop, const RunOptions& options) override {
        {
            Lock lock(mutex_);
            if (options.once && config_.sites_topic) {
                return Status::error(
                    "--once: with sites_topic the sites arrive as the group assigns them; run without "
                    "--once, or list the sites in a file");
            }
        }
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
        if (auto st = start_topic(); !st.ok()) {
            Lock lock(mutex_);
            prober_ = nullptr;
            return st;
        }
        prober->run();
        {
            Lock lock(mutex_);
            prober_ = nullptr;
        }
        prober->offers().close();  // a revoke waiting for the prober need not
        {
            Lock lock(topic_mutex_);
            topic_.reset();  // leaves the group: the others take its sites over at once
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
        if (topic_membership_changed(config_.sites_topic, next->sites_topic)) {
            log_.warn("reload: a change of sites_topic takes effect at restart");
            next->sites_topic = config_.sites_topic;
        }
        if (config_.sites_topic) {
            next->sites = config_.sites;  // the topic's, until it reads them again with the new defaults
        } else {
            log_.info("reload: {} sites", next->sites.size());
        }
        config_ = std::move(*next);
        if (prober_ != nullptr) {
            prober_->offer(config_);
        }
        auto plugin = config_.plugin;
        lock.unlock();
        Lock topic_lock(topic_mutex_);
        if (topic_) {
            topic_->reload(plugin);
        }
        return true;
    }

  private:
    Status start_topic() {
        std::optional<SitesTopicConfig> topic;
        ConfigNode plugin;
        {
            Lock lock(mutex_);
            topic = config_.sites_topic;
            plugin = config_.plugin;
        }
        if (!topic) {
            return Status::success();
        }
        Lock topic_lock(topic_mutex_);
        const auto& kind = kind_;
        auto policy = topic->policy;
        topic_ = std::make_unique<SitesTopic<Site>>(
            *topic, SitesTopicBase::Kind{std::string(kind.plugin), std::string(kind.kind)}, kind.site_table, plugin,
            [&kind, policy] {
                return [&kind, policy, read = kind.make_reader()](const ConfigNode& section, const ConfigNode& entry,
                                                                  Diagnostics& diags) -> std::optional<Site> {
                    return read_topic_site(kind, read, policy, section, entry, diags);
                };
            },
            instance_, log_,
            [this](std::vector<std::shared_ptr<const Site>> sites, bool wait) { publish(std::move(sites), wait); });
        auto st = topic_->start();
        if (!st.ok()) {
            topic_.reset();
        }
        return st;
    }

    // From the sites topic: the whole set of the kind's sites; with `wait`, returns once the
    // prober applied it (2 s at most), so a revoked partition's sites have stopped.
    void publish(std::vector<std::shared_ptr<const Site>> sites, bool wait) {
        Lock lock(mutex_);
        config_.sites = std::move(sites);
        if (prober_ == nullptr) {
            return;
        }
        auto number = prober_->offer(config_);
        auto& offers = prober_->offers();
        lock.unlock();
        // The prober outlives this wait: run() closes its offers, then ends the topic (joining
        // this thread), and only then lets the prober go.
        if (wait && !offers.wait_applied(number, std::chrono::seconds(2))) {
            log_.warn("sites topic: the checks took more than 2 s to stop the sites of a revoked partition");
        }
    }

    const CheckKind<Site>& kind_;
    std::string plugin_;
    std::string instance_;
    std::string agent_;
    Logger log_;
    Mutex mutex_;
    Config config_ VIGIL_GUARDED_BY(mutex_);
    Prober* prober_ VIGIL_GUARDED_BY(mutex_) = nullptr;  // during run()
    Mutex topic_mutex_;                                  // guards topic_ (not its calls back into publish)
    std::unique_ptr<SitesTopic<Site>> topic_ VIGIL_GUARDED_BY(topic_mutex_);  // with sites_topic: during run()
};

}  // namespace vigil::checks
