// SPDX-License-Identifier: Apache-2.0
#include "sites_topic.hpp"
#include "vigil/sync.hpp"

#include <cstring>

#include <fmt/core.h>

namespace vigil::checks {

namespace kafka = plugins::kafka;

namespace {
SitesTopicBase& self(rd_kafka_t* rk) { return *static_cast<SitesTopicBase*>(kafka::events_of(rk).owner); }

struct ListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
}  // namespace

SitesTopicBase::SitesTopicBase(SitesTopicConfig config, Kind kind, std::string instance, Logger log)
    : config_(std::move(config)), kind_(std::move(kind)), instance_(std::move(instance)), log_(std::move(log)),
      events_(log_, kafka::property(config_.consumer, "bootstrap.servers")),
      rejected_(counter(fmt::format("vigil_{}_sites_topic_rejected_total", kind_.plugin), {{"instance", instance_}},
                        "Messages of the sites topic that are not a valid site (logged, skipped)")),
      sites_gauge_(gauge(fmt::format("vigil_{}_sites", kind_.plugin), {{"instance", instance_}},
                         "Sites this instance checks (from its share of the sites topic)")),
      partitions_gauge_(gauge(fmt::format("vigil_{}_sites_topic_partitions", kind_.plugin), {{"instance", instance_}},
                              "Partitions of the sites topic assigned to this producer")) {
    events_.owner = this;
}

SitesTopicBase::~SitesTopicBase() { stop(); }

void SitesTopicBase::stop() {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

Status SitesTopicBase::start() {
    auto props = config_.consumer;
    // A topic made after the producers started is found within seconds, not librdkafka's 5 min.
    props.insert(props.begin(), {"topic.metadata.refresh.interval.ms", "5000"});
    std::string error;
    consumer_ = kafka::make_client(
        RD_KAFKA_CONSUMER, props, events_,
        [](rd_kafka_conf_t* conf) {
            rd_kafka_conf_set_rebalance_cb(
                conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void*) {
                    self(rk).on_rebalance(err, parts);
                });
        },
        error);
    if (!consumer_) {
        return Status::error("sites_topic: " + error);
    }
    rd_kafka_poll_set_consumer(consumer_.get());
    std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter> topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), config_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer_.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::error(
            fmt::format("sites_topic: cannot subscribe to {}: {}", config_.topic, rd_kafka_err2str(err)));
    }
    log_.info("{} sites from topic {} as a member of group {}.{}", kind_.kind, config_.topic, config_.group,
              kind_.kind);
    thread_ = std::thread([this] { loop(); });
    return Status::success();
}

void SitesTopicBase::reread() {
    std::size_t dropped = 0;
    for (auto it = sites_.begin(); it != sites_.end();) {
        if (auto site = read_logged(it->first, it->second.json, fmt::format("{} (reload)", it->first))) {
            it->second.site = std::move(site);
            ++it;
        } else {
            ++dropped;  // its definition does not hold under the new defaults (logged by read)
            it = sites_.erase(it);
        }
    }
    if (dropped > 0) {
        log_.warn("reload: {} site(s) of the sites topic are not valid with the new defaults and stop", dropped);
    }
    publish(false);
}

void SitesTopicBase::loop() {
    while (!stopping_) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 100);
        if (m != nullptr) {
            on_message(*m);
            rd_kafka_message_destroy(m);
            // Take what else is ready before handing the workers a new set.
            for (int i = 0; i < 1000 && !stopping_; ++i) {
                m = rd_kafka_consumer_poll(consumer_.get(), 0);
                if (m == nullptr) {
                    break;
                }
                on_message(*m);
                rd_kafka_message_destroy(m);
            }
        }
        Lock lock(mutex_);
        // Each hand-over costs the workers a pass over every site: while partitions are still
        // being read from their start (a million sites), hand them over once a second, not per poll.
        if (changed_ &&
            (loading_.empty() || std::chrono::steady_clock::now() - published_at_ >= std::chrono::seconds(1))) {
            publish(false);
        }
    }
    // Leave the group now, so the others take these sites over at once rather than after the
    // session timeout; the revoke stops them here first.
    rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
}

void SitesTopicBase::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        Lock lock(mutex_);
        for (int i = 0; i < parts->cnt; ++i) {
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;  // the whole current list
            loading_.insert(parts->elems[i].partition);
        }
        partitions_ += static_cast<std::size_t>(parts->cnt);
        partitions_gauge_.set(static_cast<double>(partitions_));
        log_.info("sites topic {}: assigned {} partition(s), {} in all", config_.topic, parts->cnt, partitions_);
        if (cooperative) {
            if (rd_kafka_error_t* e = rd_kafka_incremental_assign(consumer_.get(), parts)) {
                log_.error("sites topic: incremental assign failed: {}", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else {
            rd_kafka_assign(consumer_.get(), parts);
        }
        return;
    }
    {
        // Revoked or lost: stop those sites, and wait until the workers have, before the group
        // may give the partitions to another producer.
        Lock lock(mutex_);
        std::set<std::int32_t> gone;
        for (int i = 0; i < parts->cnt; ++i) {
            gone.insert(parts->elems[i].partition);
            loading_.erase(parts->elems[i].partition);
        }
        std::size_t stopped = 0;
        for (auto it = sites_.begin(); it != sites_.end();) {
            if (gone.count(it->second.partition) > 0) {
                it = sites_.erase(it);
                ++stopped;
            } else {
                ++it;
            }
        }
        partitions_ -= std::min<std::size_t>(partitions_, static_cast<std::size_t>(parts->cnt));
        partitions_gauge_.set(static_cast<double>(partitions_));
        log_.info("sites topic {}: {} {} partition(s), {} site(s) stopped", config_.topic,
                  err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "revoked" : "lost", parts->cnt, stopped);
        publish(true);
    }
    if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(consumer_.get(), parts)) {
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(consumer_.get(), nullptr);
    }
}

void SitesTopicBase::on_message(const rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Lock lock(mutex_);
        if (loading_.erase(m.partition) > 0) {
            log_.info("sites topic {}: partition {} read, {} site(s) in this producer's share", config_.topic,
                      m.partition, sites_.size());
        }
        return;
    }
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        events_.on_error(m.err, rd_kafka_message_errstr(&m));
        return;
    }
    events_.on_progress();
    auto where = fmt::format("{}/{}/{}", config_.topic, m.partition, m.offset);
    Lock lock(mutex_);
    if (m.key == nullptr || m.key_len == 0) {
        reject(where, "the message has no key (the key is the site's name)");
        return;
    }
    std::string key(static_cast<const char*>(m.key), m.key_len);
    if (m.payload == nullptr) {  // a tombstone: the site is removed
        forget(key, m.partition);
        return;
    }
    std::string json(static_cast<const char*>(m.payload), m.len);
    std::string why;
    auto kind = kind_of_message(json, &why);
    if (kind.empty()) {
        refuse(key, where, why);
        return;
    }
    if (kind != kind_.kind) {
        // Another kind's site (its plugin takes it); a site that changed kind leaves this one.
        forget(key, m.partition);
        return;
    }
    if (auto site = read_logged(key, json, where)) {
        auto& e = sites_[key];
        changed_ = changed_ || !e.site || !same(e.site.get(), site.get());
        e = Entry{m.partition, std::move(json), std::move(site)};
    }
}

// A definition as a site of a file: the same options and checks, plugin-level defaults applied.
SitesTopicBase::Any SitesTopicBase::read_logged(const std::string& key, const std::string& json,
                                                const std::string& where) {
    std::string error;
    auto site = read(key, json, where, error);
    if (!site) {
        refuse(key, where, error);
    }
    return site;
}

// A tombstone, or the site's message now of another kind: it leaves this plugin, unless the
// definition held came from another partition.
void SitesTopicBase::forget(const std::string& key, std::int32_t partition) {
    auto it = sites_.find(key);
    if (it != sites_.end() && it->second.partition == partition) {
        sites_.erase(it);
        changed_ = true;
    }
}

void SitesTopicBase::refuse(const std::string& key, const std::string& where, const std::string& why) {
    reject(where, why);
    if (sites_.count(key) > 0) {
        log_.warn("sites topic: site \"{}\" keeps its previous definition", key);
    }
}

std::optional<std::string> read_topic_entry(
    const std::string& key, const std::string& json, const std::string& where, const OptionSpec* site_table,
    const std::function<bool(const ConfigNode& entry, Diagnostics&)>& read_site) {
    auto first = json.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || json[first] != '{') {
        return "the value is not a JSON object of site options";
    }
    Diagnostics diags;
    std::size_t entries = 0;
    bool read = false;
    // The message is data (for_each_in_data_list): no ${VAR} from the producer's environment, no
    // file of the producer's named by it; the plugin's policy decides what else it may set.
    for_each_in_data_list("[" + json + "]", where, site_table, diags, [&](const ConfigNode& entry) {
        if (++entries > 1) {
            diags.error(entry.location(), entry.path(), "a message holds one site");
            return;
        }
        if (entry.get_string("name") != key) {
            diags.error(
                entry.location_of("name"), entry.path_of("name"),
                fmt::format("name \"{}\" differs from the message's key \"{}\"", entry.get_string("name"), key));
            return;
        }
        read = read_site(entry, diags);
    });
    if (read && !diags.has_errors()) {
        return std::nullopt;
    }
    auto text = diags.render();
    return text.empty() ? "not a site definition" : text.substr(0, text.find('\n'));
}

void SitesTopicBase::reject(const std::string& where, const std::string& why) {
    rejected_.inc();
    if (rejected_log_.complain()) {
        log_.warn("sites topic: skipped the message at {}: {}{}", where, why,
                  rejected_log_.suppressed() > 0 ? fmt::format(" ({} more suppressed)", rejected_log_.suppressed())
                                                 : std::string());
    }
}

void SitesTopicBase::publish(bool wait) {
    std::vector<Any> sites;
    sites.reserve(sites_.size());
    for (const auto& [name, e] : sites_) {
        sites.push_back(e.site);
    }
    sites_gauge_.set(static_cast<double>(sites.size()));
    changed_ = false;
    published_at_ = std::chrono::steady_clock::now();
    deliver(std::move(sites), wait);
}

}  // namespace vigil::checks
