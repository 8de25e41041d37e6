// SPDX-License-Identifier: Apache-2.0
// The producers' side of `sites_topic`: one member of the group's consumer, on a thread of its
// own. Each partition the group assigns is read from its start (the topic is compacted, so that
// is the current definition of every site in it) and followed; each change of the set of sites
// is handed to the workers. A partition taken away stops its sites before the group may give it
// to another producer, so no slot is checked twice; the schedule phase is the name's, so a site
// handed over keeps its grid.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http_check_config.hpp"
#include "kafka_client.hpp"
#include "sites_topic_config.hpp"
#include "vigil/log.hpp"
#include "vigil/metrics.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::plugins::http_check {

class SitesTopic {
  public:
    /// Receives the whole set of sites after each change. `wait` asks it to return only once the
    /// workers have applied the set (a revoke: the sites must stop before the group moves them).
    using Publish = std::function<void(std::vector<std::shared_ptr<const Site>> sites, bool wait)>;

    SitesTopic(SitesTopicConfig config, ConfigNode plugin, std::string instance, Logger log, Publish publish);
    ~SitesTopic();
    SitesTopic(const SitesTopic&) = delete;
    SitesTopic& operator=(const SitesTopic&) = delete;

    /// Joins the group and starts following the topic.
    Status start();
    /// SIGHUP: the plugin-level defaults changed; every site is read again with them.
    void reload(ConfigNode plugin);

  private:
    struct Entry {
        std::int32_t partition = 0;
        std::string json;  // the definition as published: a reload reads it again
        std::shared_ptr<const Site> site;
    };
    void loop();
    void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
    void on_message(const rd_kafka_message_t& m);
    std::shared_ptr<const Site> read(const std::string& key, const std::string& json, const std::string& where);
    void reject(const std::string& where, const std::string& why);
    void publish(bool wait);

    SitesTopicConfig config_;
    std::string instance_;
    Logger log_;
    Publish publish_;
    kafka::ClientEvents events_;
    kafka::Client consumer_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};

    Mutex mutex_;  // the thread's state below, against reload()
    ConfigNode plugin_;
    SiteCache cache_;
    std::unordered_map<std::string, Entry> sites_;
    std::set<std::int32_t> loading_;  // assigned, not yet read to the end once
    bool changed_ = false;
    std::chrono::steady_clock::time_point published_at_{};
    Complaint rejected_log_;

    Counter& rejected_;
    Gauge& sites_gauge_;
    Gauge& partitions_gauge_;
    std::size_t partitions_ = 0;
};

}  // namespace vigil::plugins::http_check
