// SPDX-License-Identifier: Apache-2.0
// The producers' side of `sites_topic`: one member of the kind's consumer group, on a thread of
// its own. Each partition the group assigns is read from its start (the topic is compacted, so
// that is the current definition of every site in it) and followed; each change of the set of
// sites of this plugin's kind is handed to the checks. A message of another kind is passed over
// (that kind's plugin, in its own group, takes it). A partition taken away stops its sites before
// the group may give it to another producer, so no slot is checked twice; the schedule phase is
// the name's, so a site handed over keeps its grid.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kafka_client.hpp"
#include "sites_topic_config.hpp"
#include "vigil/config.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::checks {

/// One message's value read as a site definition, as data (no interpolation, no file named):
/// `key` must be the site's name, `where` names the message (topic/partition/offset) in errors.
/// `read_site` turns the validated entry into a site (false: it said why in `diags`). The first
/// error's line when it is not a site.
std::optional<std::string> read_topic_entry(
    const std::string& key, const std::string& json, const std::string& where, const OptionSpec* site_table,
    const std::function<bool(const ConfigNode& entry, Diagnostics&)>& read_site);

/// The Kafka side, whatever the kind of site: the group member, rebalances, the messages.
class SitesTopicBase {
  public:
    struct Kind {
        std::string plugin;  // http_check: metric names and logs
        std::string kind;    // http: the sites it takes, by URL scheme
    };
    SitesTopicBase(SitesTopicConfig config, Kind kind, std::string instance, Logger log);
    virtual ~SitesTopicBase();
    SitesTopicBase(const SitesTopicBase&) = delete;
    SitesTopicBase& operator=(const SitesTopicBase&) = delete;

    /// Joins the group and starts following the topic.
    Status start();
    /// Stops following the topic and leaves the group (the others take its sites over at once);
    /// a derived class calls it in its destructor, before its own members go.
    void stop();

  protected:
    using Any = std::shared_ptr<const void>;
    /// One definition read as a site of this kind, or nullptr with `error` set.
    virtual Any read(const std::string& key, const std::string& json, const std::string& where, std::string& error)
        VIGIL_REQUIRES(mutex_) = 0;
    virtual bool same(const void* a, const void* b) const = 0;
    /// The whole set after a change; `wait`: return only once the checks have applied it.
    virtual void deliver(std::vector<Any> sites, bool wait) VIGIL_REQUIRES(mutex_) = 0;
    /// Every site read again (the plugin-level defaults changed); mutex_ held.
    void reread() VIGIL_REQUIRES(mutex_);

    Mutex mutex_;  // the thread's state below, against a reload

  private:
    struct Entry {
        std::int32_t partition = 0;
        std::string json;  // the definition as published: a reload reads it again
        Any site;
    };
    void loop();
    void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
    void on_message(const rd_kafka_message_t& m);
    Any read_logged(const std::string& key, const std::string& json, const std::string& where) VIGIL_REQUIRES(mutex_);
    void reject(const std::string& where, const std::string& why) VIGIL_REQUIRES(mutex_);
    // reject(), and a site already held keeps its previous definition (said in the log).
    void refuse(const std::string& key, const std::string& where, const std::string& why) VIGIL_REQUIRES(mutex_);
    void forget(const std::string& key, std::int32_t partition) VIGIL_REQUIRES(mutex_);
    void publish(bool wait) VIGIL_REQUIRES(mutex_);

    SitesTopicConfig config_;
    Kind kind_;
    std::string instance_;
    Logger log_;
    plugins::kafka::ClientEvents events_;
    plugins::kafka::Client consumer_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};

    std::unordered_map<std::string, Entry> sites_ VIGIL_GUARDED_BY(mutex_);
    std::set<std::int32_t> loading_ VIGIL_GUARDED_BY(mutex_);  // assigned, not yet read to the end once
    bool changed_ VIGIL_GUARDED_BY(mutex_) = false;
    std::chrono::steady_clock::time_point published_at_ VIGIL_GUARDED_BY(mutex_){};
    Complaint rejected_log_ VIGIL_GUARDED_BY(mutex_);

    Counter& rejected_;
    Gauge& sites_gauge_;
    Gauge& partitions_gauge_;
    std::size_t partitions_ VIGIL_GUARDED_BY(mutex_) = 0;
};

/// The sites topic of a check plugin whose sites are `Site`s.
template <class Site>
class SitesTopic final : public SitesTopicBase {
  public:
    /// Reads one entry (a validated map) as a site, with `plugin` (the section) giving what it
    /// does not set; nullopt once it said why in `diags`.
    using ReadSite =
        std::function<std::optional<Site>(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags)>;
    /// A fresh reader (its caches empty), made again at each reload.
    using MakeReader = std::function<ReadSite()>;
    /// Receives the whole set of sites after each change. `wait` asks it to return only once the
    /// checks have applied the set (a revoke: the sites must stop before the group moves them).
    using Publish = std::function<void(std::vector<std::shared_ptr<const Site>> sites, bool wait)>;

    SitesTopic(SitesTopicConfig config, Kind kind, const OptionSpec* site_table, ConfigNode plugin,
               MakeReader make_reader, std::string instance, Logger log, Publish publish)
        : SitesTopicBase(std::move(config), std::move(kind), std::move(instance), std::move(log)),
          site_table_(site_table), plugin_(std::move(plugin)), make_reader_(std::move(make_reader)),
          reader_(make_reader_()), publish_(std::move(publish)) {}
    ~SitesTopic() override { stop(); }
    SitesTopic(const SitesTopic&) = delete;
    SitesTopic& operator=(const SitesTopic&) = delete;

    /// SIGHUP: the plugin-level defaults changed; every site is read again with them.
    void reload(ConfigNode plugin) {
        Lock lock(mutex_);
        plugin_ = std::move(plugin);
        reader_ = make_reader_();
        reread();
    }

  private:
    Any read(const std::string& key, const std::string& json, const std::string& where, std::string& error) override
        VIGIL_REQUIRES(mutex_) {
        std::shared_ptr<const Site> site;
        // Called within read_topic_entry, under the lock this function holds.
        auto problem = read_topic_entry(key, json, where, site_table_,
                                        [&](const ConfigNode& entry, Diagnostics& d) VIGIL_REQUIRES(mutex_) {
                                            auto s = reader_(plugin_, entry, d);
                                            if (s) {
                                                site = std::make_shared<const Site>(std::move(*s));
                                            }
                                            return s.has_value();
                                        });
        if (problem) {
            error = std::move(*problem);
            return nullptr;
        }
        return site;
    }
    bool same(const void* a, const void* b) const override {
        return *static_cast<const Site*>(a) == *static_cast<const Site*>(b);
    }
    void deliver(std::vector<Any> sites, bool wait) override VIGIL_REQUIRES(mutex_) {
        std::vector<std::shared_ptr<const Site>> typed;
        typed.reserve(sites.size());
        for (auto& s : sites) {
            typed.push_back(std::static_pointer_cast<const Site>(std::move(s)));
        }
        publish_(std::move(typed), wait);
    }

    const OptionSpec* site_table_;
    ConfigNode plugin_ VIGIL_GUARDED_BY(mutex_);
    MakeReader make_reader_;
    ReadSite reader_ VIGIL_GUARDED_BY(mutex_);
    Publish publish_;
};

}  // namespace vigil::checks
