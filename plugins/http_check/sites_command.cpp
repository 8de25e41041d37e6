// SPDX-License-Identifier: Apache-2.0
#include "sites_command.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "http_check_config.hpp"
#include "kafka_client.hpp"
#include "kafka_errors.hpp"
#include "sites_topic_config.hpp"

namespace vigil::plugins::http_check {

const PluginCommand kCommands[] = {
    {.name = "sites",
     .usage = "import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list [--allow-secrets]",
     .description = "Edit and read the sites topic of the pipeline's sites_topic",
     .run = &sites_command},
    {},
};

namespace {

constexpr int kOk = 0, kRuntime = 1, kUsage = 64, kConfig = 78;
constexpr auto kTimeout = std::chrono::seconds(30);

const char* const kUsageText =
    "usage: agent sites import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list --pipeline FILE\n"
    "  import FILE      publish every site of FILE (YAML or JSON list, as sites_file); adds or replaces;\n"
    "                   values are published as written (${VAR} stays that text, no *_file is read)\n"
    "  add NAME URL     publish one site; KEY=VALUE sets a site option, VALUE in YAML (interval=5s,\n"
    "                   json='[{pointer: /status, equals: UP}]')\n"
    "  remove NAME...   remove sites (a tombstone each)\n"
    "  list             print each site of the topic as one JSON line\n"
    "  --allow-secrets  publish a bearer_token or basic_auth password written in the definition\n";

struct Definition {
    std::string name;
    std::string json;
};

std::string json_string(const std::string& s) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return buf.GetString();
}

// A secret written out in the file (not a ${VAR} reference, which is published as that text):
// everyone who can read the topic could read it.
bool literal_secret(const ConfigNode& node, const char* key) {
    if (!node.has(key)) {
        return false;
    }
    auto value = node.get_secret(key).reveal();
    bool reference =
        value.size() > 3 && value.rfind("${", 0) == 0 && value.back() == '}' && value.find('}') == value.size() - 1;
    return !value.empty() && !reference;
}

// Every site of `text` validated and read as the producers will read it (as data: no ${VAR}
// from this shell's environment, no file named); nothing on any error.
std::optional<std::vector<Definition>> definitions(const std::string& text, const std::string& name,
                                                   const ConfigNode& section, const SitesTopicConfig& config,
                                                   bool allow_secrets, Diagnostics& diags) {
    std::vector<Definition> out;
    std::map<std::string, SourceLocation> seen;
    SiteCache cache;
    std::size_t before = diags.error_count();
    for_each_in_data_list(text, name, kSiteOptions, diags, [&](const ConfigNode& entry) {
        auto site = entry.get_string("name");
        auto where = entry.location_of("name");
        if (auto [first, fresh] = seen.emplace(site, where); !fresh) {
            diags.error(where, entry.path_of("name"),
                        fmt::format("duplicate site name \"{}\" (first at {}:{})", site, first->second.line,
                                    first->second.column));
            return;
        }
        if (!allow_secrets) {
            for (auto [node, key] :
                 {std::pair{entry, "bearer_token"}, std::pair{entry.child("basic_auth"), "password"}}) {
                if (literal_secret(node, key)) {
                    diags.error(node.location_of(key), node.path_of(key),
                                "a secret in a site definition is readable by everyone who can read the topic: "
                                "pass --allow-secrets to publish it anyway, or let the producers use their own "
                                "(sites_topic.inherit_credentials)");
                    return;
                }
            }
        }
        if (read_site(section, entry, diags, cache, &config.policy)) {
            out.push_back({site, entry.to_json()});
        }
    });
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return out;
}

class Topic {
  public:
    Topic(const SitesTopicConfig& config, const CommandContext& ctx)
        : config_(config), ctx_(ctx), events_(ctx.logger, kafka::property(config.connection, "bootstrap.servers")) {}

    // Creates the topic, compacted, unless it exists.
    bool ensure() {
        auto rk = client(RD_KAFKA_PRODUCER, {});
        if (!rk) {
            return false;
        }
        char err[512];
        rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(config_.topic.c_str(), config_.partitions,
                                                        config_.replication_factor, err, sizeof err);
        if (nt == nullptr) {
            return fail(fmt::format("cannot describe topic {}: {}", config_.topic, err));
        }
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
        rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
        rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, q);
        rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(kTimeout.count() * 1000));
        bool ok = false;
        if (ev == nullptr) {
            fail(fmt::format("no answer from {} within {}s creating topic {}", events_.brokers(), kTimeout.count(),
                             config_.topic));
        } else if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
            std::size_t n = 0;
            const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
            auto code = n == 1 ? rd_kafka_topic_result_error(results[0]) : rd_kafka_event_error(ev);
            if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
                *ctx_.err << fmt::format("created topic {} ({} partitions, cleanup.policy=compact)\n", config_.topic,
                                         config_.partitions);
                ok = true;
            } else if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                ok = true;
            } else {
                const char* why = n == 1 ? rd_kafka_topic_result_error_string(results[0]) : nullptr;
                fail(fmt::format("cannot create topic {}: {}", config_.topic,
                                 why != nullptr ? why : kafka::describe(code)));
            }
        }
        if (ev != nullptr) {
            rd_kafka_event_destroy(ev);
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        return ok;
    }

    // Writes each definition (a tombstone for an empty json) and waits for Kafka to have all.
    bool publish(const std::vector<Definition>& defs) {
        auto rk = client(RD_KAFKA_PRODUCER,
                         {{"enable.idempotence", "true"},
                          {"acks", "all"},
                          // The Java clients' partitioner: every writer puts a name in one partition.
                          {"partitioner", "murmur2_random"}},
                         true);
        if (!rk) {
            return false;
        }
        for (const auto& d : defs) {
            auto err = rd_kafka_producev(
                rk.get(), RD_KAFKA_V_TOPIC(config_.topic.c_str()), RD_KAFKA_V_KEY(d.name.data(), d.name.size()),
                RD_KAFKA_V_VALUE(d.json.empty() ? nullptr : const_cast<char*>(d.json.data()), d.json.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk.get(), 100);
                err = rd_kafka_producev(
                    rk.get(), RD_KAFKA_V_TOPIC(config_.topic.c_str()), RD_KAFKA_V_KEY(d.name.data(), d.name.size()),
                    RD_KAFKA_V_VALUE(d.json.empty() ? nullptr : const_cast<char*>(d.json.data()), d.json.size()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                return fail(fmt::format("cannot publish site \"{}\": {}", d.name, kafka::describe(err)));
            }
        }
        if (rd_kafka_flush(rk.get(), static_cast<int>(kTimeout.count() * 1000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return fail(fmt::format("Kafka at {} did not take the sites within {}s{}", events_.brokers(),
                                    kTimeout.count(), events_.last_error().empty() ? "" : ": " + events_.last_error()));
        }
        if (failed_ > 0) {
            return fail(fmt::format("{} of {} site(s) not written to {}: {}", failed_, defs.size(), config_.topic,
                                    first_failure_));
        }
        return true;
    }

    // The topic's current definitions by name: each partition read from its start to its end.
    std::optional<std::map<std::string, std::string>> read_all() {
        auto rk = client(RD_KAFKA_CONSUMER, {{"enable.partition.eof", "true"}, {"group.id", "vigil-sites-cli"}});
        if (!rk) {
            return std::nullopt;
        }
        rd_kafka_topic_t* t = rd_kafka_topic_new(rk.get(), config_.topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        auto err = rd_kafka_metadata(rk.get(), 0, t, &md, static_cast<int>(kTimeout.count() * 1000));
        rd_kafka_topic_destroy(t);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
            md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            auto code = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : md->topics[0].err;
            if (md != nullptr) {
                rd_kafka_metadata_destroy(md);
            }
            fail(code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                     ? fmt::format("topic {} does not exist yet (agent sites add or import makes it)", config_.topic)
                     : fmt::format("cannot read topic {}: {}", config_.topic, kafka::describe(code)));
            return std::nullopt;
        }
        int partitions = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; ++p) {
            rd_kafka_topic_partition_list_add(list, config_.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_assign(rk.get(), list);
        rd_kafka_topic_partition_list_destroy(list);
        std::map<std::string, std::string> sites;
        int at_end = 0;
        auto deadline = std::chrono::steady_clock::now() + kTimeout;
        while (at_end < partitions) {
            if (std::chrono::steady_clock::now() > deadline) {
                fail(fmt::format("topic {}: not read to its end within {}s{}", config_.topic, kTimeout.count(),
                                 events_.last_error().empty() ? "" : ": " + events_.last_error()));
                return std::nullopt;
            }
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 200);
            if (m == nullptr) {
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                ++at_end;
            } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->key != nullptr) {
                std::string key(static_cast<const char*>(m->key), m->key_len);
                if (m->payload == nullptr) {
                    sites.erase(key);
                } else {
                    sites[key] = std::string(static_cast<const char*>(m->payload), m->len);
                }
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk.get());
        return sites;
    }

  private:
    kafka::Client client(rd_kafka_type_t type, kafka::Properties extra, bool reports = false) {
        auto props = config_.connection;
        props.emplace_back("client.id", "vigil-sites-cli");
        props.insert(props.end(), extra.begin(), extra.end());
        std::string error;
        events_.owner = this;
        auto rk = kafka::make_client(
            type, props, events_,
            [reports](rd_kafka_conf_t* conf) {
                if (reports) {
                    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
                        auto* self = static_cast<Topic*>(kafka::events_of(rk).owner);
                        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && self->failed_++ == 0) {
                            self->first_failure_ = kafka::describe(m->err);
                        }
                    });
                }
            },
            error);
        if (!rk) {
            fail(error);
        }
        return rk;
    }

    bool fail(const std::string& message) {
        *ctx_.err << "agent sites: error: " << message << '\n';
        return false;
    }

    const SitesTopicConfig& config_;
    const CommandContext& ctx_;
    kafka::ClientEvents events_;
    std::size_t failed_ = 0;
    std::string first_failure_;
};

// `add NAME URL KEY=VALUE...` as the one-site list a file would hold.
std::optional<std::string> add_text(const std::vector<std::string>& args, std::ostream& err) {
    std::string text = "- name: " + json_string(args[1]) + "\n  url: " + json_string(args[2]) + "\n";
    for (std::size_t i = 3; i < args.size(); ++i) {
        auto eq = args[i].find('=');
        auto key = args[i].substr(0, eq);
        if (eq == std::string::npos || key.empty() ||
            key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
            err << fmt::format("agent sites add: error: \"{}\" is not KEY=VALUE (a site option, e.g. interval=5s)\n",
                               args[i]);
            return std::nullopt;
        }
        auto value = args[i].substr(eq + 1);
        if (value.find('\n') != std::string::npos) {
            err << fmt::format("agent sites add: error: the value of {} holds a line break\n", key);
            return std::nullopt;
        }
        text += "  " + key + ": " + value + "\n";
    }
    return text;
}

}  // namespace

int sites_command(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags) {
    std::vector<std::string> args;
    bool allow_secrets = false;
    for (const auto& a : ctx.args) {
        if (a == "--allow-secrets") {
            allow_secrets = true;
        } else {
            args.push_back(a);
        }
    }
    std::string verb = args.empty() ? "" : args[0];
    bool usage_ok = (verb == "list" && args.size() == 1) || (verb == "import" && args.size() == 2) ||
                    (verb == "add" && args.size() >= 3) || (verb == "remove" && args.size() >= 2);
    if (!usage_ok) {
        *ctx.err << kUsageText;
        return kUsage;
    }
    if (!section.has("sites_topic")) {
        diags.error(section.location(), section.path(),
                    "agent sites edits the sites topic, and this http_check has no sites_topic");
        return kConfig;
    }
    auto config = read_sites_topic(section.child("sites_topic"), "vigil-sites-cli", diags);
    if (!config) {
        return kConfig;
    }
    Topic topic(*config, ctx);
    if (verb == "list") {
        auto sites = topic.read_all();
        if (!sites) {
            return kRuntime;
        }
        for (const auto& [name, json] : *sites) {
            *ctx.out << json << '\n';
        }
        *ctx.err << fmt::format("{} site(s) in topic {}\n", sites->size(), config->topic);
        return kOk;
    }
    std::vector<Definition> defs;
    if (verb == "remove") {
        for (std::size_t i = 1; i < args.size(); ++i) {
            defs.push_back({args[i], ""});
        }
    } else {
        std::string text, name;
        if (verb == "import") {
            std::ifstream in(args[1]);
            if (!in) {
                *ctx.err << fmt::format("agent sites import: error: cannot read {}: {}\n", args[1],
                                        std::strerror(errno));
                return kUsage;
            }
            std::ostringstream all;
            all << in.rdbuf();
            text = all.str();
            name = args[1];
        } else {
            auto one = add_text(args, *ctx.err);
            if (!one) {
                return kUsage;
            }
            text = *one;
            name = "agent sites add";
        }
        auto read = definitions(text, name, section, *config, allow_secrets, diags);
        if (!read) {
            *ctx.err << "agent sites: nothing published\n";
            return kConfig;
        }
        defs = std::move(*read);
    }
    if (!topic.ensure() || !topic.publish(defs)) {
        return kRuntime;
    }
    *ctx.err << fmt::format("{} {} site(s) {} topic {}\n", verb == "remove" ? "removed" : "published", defs.size(),
                            verb == "remove" ? "from" : "to", config->topic);
    return kOk;
}

}  // namespace vigil::plugins::http_check
