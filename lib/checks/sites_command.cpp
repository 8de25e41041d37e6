// SPDX-License-Identifier: Apache-2.0
#include "sites_command.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <ostream>
#include <sstream>

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "kafka_client.hpp"
#include "kafka_errors.hpp"
#include "untrusted_json.hpp"
#include "vigil/text.hpp"

namespace vigil::checks {

namespace {

namespace kafka = plugins::kafka;

constexpr int kOk = 0, kRuntime = 1, kUsage = 64, kConfig = 78;
constexpr auto kTimeout = std::chrono::seconds(30);

const char* const kUsageText =
    "usage: agent sites import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list --pipeline FILE\n"
    "  import FILE      publish every site of FILE (YAML or JSON list, as sites_file); adds or replaces;\n"
    "                   values are published as written (${VAR} stays that text, no *_file is read);\n"
    "                   each site is validated by the pipeline's plugin of its kind (https:// by\n"
    "                   http_check, tcp:// by tcp_check, ...), and nothing is published on any error\n"
    "  add NAME URL     publish one site; KEY=VALUE sets a site option, VALUE in YAML (interval=5s,\n"
    "                   json='[{pointer: /status, equals: UP}]')\n"
    "  remove NAME...   remove sites (a tombstone each)\n"
    "  list             print each site of the topic as one JSON line\n"
    "  --allow-secrets  publish a bearer_token or basic_auth password written in the definition\n"
    "  --dry-run        validate import or add, publish nothing\n";

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

// One entry of a list as the first pass sees it (free-form, nothing validated): its name and the
// kind of check its url names.
struct Surveyed {
    std::string path;  // "[3]"
    std::string name;
    std::string url;
    std::string kind;  // empty: no url, or not of a kind Vigil checks
    SourceLocation name_at, url_at;
    std::string name_path, url_path;
};

std::vector<Surveyed> survey(const std::string& text, const std::string& name) {
    std::vector<Surveyed> out;
    Diagnostics ignored;  // the validating pass reports them
    for_each_in_data_list(text, name, nullptr, ignored, [&](const ConfigNode& entry) {
        Surveyed e{.path = entry.path(),
                   .name_at = entry.location_of("name"),
                   .url_at = entry.location_of("url"),
                   .name_path = entry.path_of("name"),
                   .url_path = entry.path_of("url")};
        rapidjson::Document doc;
        if (!json::parse(entry.to_json(), doc) && doc.IsObject()) {
            auto text_of = [&](const char* key) {
                const rapidjson::Value* v = doc.HasMember(key) ? &doc[key] : nullptr;
                return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                                     : std::string();
            };
            e.name = text_of("name");
            e.url = text_of("url");
            e.kind = kind_of_url(e.url);
        }
        out.push_back(std::move(e));
    });
    return out;
}

// "[3].url" -> "[3]"; a problem of the whole list -> "".
std::string entry_of(const std::string& path) {
    return path.starts_with('[') ? path.substr(0, path.find(']') + 1) : std::string();
}

// The sites of `text` that are this plugin's, validated and read as the producers will read them
// (as data: no ${VAR} from this shell's environment, no file named). `mine` are their entry
// paths; `whole` also reports the problems of the list itself. Nothing on any error.
std::optional<std::vector<Definition>> definitions(const std::string& text, const std::string& name,
                                                   const ConfigNode& section, const SitesTopicConfig& config,
                                                   const SitesCommandKind& kind, const std::set<std::string>& mine,
                                                   bool whole, bool allow_secrets, Diagnostics& diags) {
    std::vector<Definition> out;
    Diagnostics all;
    for_each_in_data_list(text, name, kind.site_table, all, [&](const ConfigNode& entry) {
        if (mine.count(entry.path()) > 0 && kind.read(section, entry, config.policy, allow_secrets, all)) {
            out.push_back({entry.get_string("name"), entry.to_json()});
        }
    });
    // Another kind's entries fail this kind's table: those problems are not this plugin's to say.
    std::size_t before = diags.error_count();
    for (const auto& d : all.entries()) {
        auto entry = entry_of(d.path);
        if (entry.empty() ? whole : mine.count(entry) > 0) {
            if (d.severity == Diagnostic::Severity::Error) {
                diags.error(d.location, d.path, d.message);
            } else {
                diags.warning(d.location, d.path, d.message);
            }
        }
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return out;
}

const CommandPeer* peer_of_kind(const CommandContext& ctx, const std::string& kind) {
    for (const auto& p : ctx.peers) {
        if (p.plugin == kind + "_check") {
            return &p;
        }
    }
    return nullptr;
}

// The same command for a peer, with only its own part to do.
int hand_to(const CommandContext& ctx, const CommandPeer& peer, std::vector<std::string> args, Diagnostics& diags) {
    CommandContext next;
    next.args = std::move(args);
    next.agent = ctx.agent;
    next.instance = peer.instance;
    next.logger = ctx.logger;
    next.out = ctx.out;
    next.err = ctx.err;
    next.delegated = true;
    return peer.run(next, *peer.section, diags);
}

// Where a section's sites_topic is: brokers and topic (two plugins may share it, or not).
std::string topic_key(const ConfigNode& section) {
    auto t = section.child("sites_topic");
    return t.get_string("brokers") + "|" + t.get_string("topic");
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

int sites_command(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags,
                  const SitesCommandKind& kind) {
    std::vector<std::string> args;
    bool allow_secrets = false, dry_run = false;
    std::vector<std::string> flags;
    for (const auto& a : ctx.args) {
        if (a == "--allow-secrets" || a == "--dry-run") {
            (a == "--dry-run" ? dry_run : allow_secrets) = true;
            flags.push_back(a);
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
    std::string plugin = fmt::format("{}_check", kind.kind);
    if (!section.has("sites_topic")) {
        // A peer with a sites topic takes the command; this plugin's sites, if any, come back here
        // and are refused with the error below.
        for (std::size_t i = 0; i < ctx.peers.size() && !ctx.delegated; ++i) {
            if (ctx.peers[i].section->has("sites_topic")) {
                CommandContext next = ctx;
                next.peers.erase(next.peers.begin() + static_cast<std::ptrdiff_t>(i));
                next.peers.emplace_back(CommandPeer{plugin, ctx.instance, &section, kind.self});
                return ctx.peers[i].run(next, *ctx.peers[i].section, diags);
            }
        }
        diags.error(section.location(), section.path(),
                    fmt::format("agent sites edits the sites topic, and this {} has no sites_topic", plugin));
        return kConfig;
    }
    auto config = read_sites_topic(section.child("sites_topic"), kind.kind, kind.restricted, diags);
    if (!config) {
        return kConfig;
    }
    Topic topic(*config, ctx);
    // Peers whose topic is another than this one (list and remove visit each topic once).
    std::vector<const CommandPeer*> elsewhere;
    if (!ctx.delegated) {
        std::set<std::string> seen{topic_key(section)};
        for (const auto& p : ctx.peers) {
            if (p.section->has("sites_topic") && seen.insert(topic_key(*p.section)).second) {
                elsewhere.push_back(&p);
            }
        }
    }
    if (verb == "list") {
        auto sites = topic.read_all();
        if (!sites) {
            return kRuntime;
        }
        for (const auto& [name, json] : *sites) {
            *ctx.out << json << '\n';
        }
        *ctx.err << fmt::format("{} site(s) in topic {}\n", sites->size(), config->topic);
        for (const auto* p : elsewhere) {
            if (int code = hand_to(ctx, *p, args, diags); code != kOk) {
                return code;
            }
        }
        return kOk;
    }
    if (verb == "remove") {
        std::vector<Definition> defs;
        for (std::size_t i = 1; i < args.size(); ++i) {
            defs.push_back({args[i], ""});
        }
        if (!topic.ensure() || !topic.publish(defs)) {
            return kRuntime;
        }
        *ctx.err << fmt::format("removed {} site(s) from topic {}\n", defs.size(), config->topic);
        for (const auto* p : elsewhere) {
            if (int code = hand_to(ctx, *p, ctx.args, diags); code != kOk) {
                return code;
            }
        }
        return kOk;
    }

    std::string text, name;
    if (verb == "import") {
        std::ifstream in(args[1]);
        if (!in) {
            *ctx.err << fmt::format("agent sites import: error: cannot read {}: {}\n", args[1], std::strerror(errno));
            return kUsage;
        }
        std::ostringstream all;
        all << in.rdbuf();
        text = all.str();
        name = args[1];
    } else {
        auto url_kind = kind_of_url(args[2]);
        if (!url_kind.empty() && url_kind != kind.kind && !ctx.delegated) {
            if (const auto* p = peer_of_kind(ctx, url_kind)) {
                return hand_to(ctx, *p, ctx.args, diags);
            }
            *ctx.err << fmt::format(
                "agent sites add: error: {} is a {} site, and this pipeline has no {}_check to "
                "take it\n",
                args[2], url_kind, url_kind);
            return kConfig;
        }
        auto one = add_text(args, *ctx.err);
        if (!one) {
            return kUsage;
        }
        text = *one;
        name = "agent sites add";
    }

    // Which entries are whose: this plugin validates its own kind (and, when it leads, an entry
    // without a url, so that the missing url is said); each other kind goes to its plugin.
    auto entries = survey(text, name);
    std::set<std::string> mine;
    std::map<std::string, std::vector<const Surveyed*>> others;
    std::size_t before = diags.error_count();
    std::map<std::string, const Surveyed*> names;
    for (const auto& e : entries) {
        if (e.kind == kind.kind || (e.url.empty() && !ctx.delegated)) {
            mine.insert(e.path);
        } else if (ctx.delegated) {
            continue;
        } else if (e.kind.empty()) {
            diags.error(e.url_at, e.url_path, no_kind_reason(e.url));
        } else {
            others[e.kind].push_back(&e);
        }
        if (!ctx.delegated && !e.name.empty()) {
            if (auto [first, fresh] = names.emplace(e.name, &e); !fresh) {
                diags.error(e.name_at, e.name_path,
                            fmt::format("duplicate site name \"{}\" (first at {}:{})", e.name,
                                        first->second->name_at.line, first->second->name_at.column));
            }
        }
    }
    struct Helper {
        std::string kind;
        const CommandPeer* peer;
        std::size_t count;
    };
    std::vector<Helper> helpers;
    std::vector<std::string> peer_args{"import", name};
    peer_args.insert(peer_args.end(), flags.begin(), flags.end());
    for (const auto& [other, list] : others) {
        const auto* p = peer_of_kind(ctx, other);
        if (p == nullptr) {
            for (const auto* e : list) {
                diags.error(e->url_at, e->url_path,
                            fmt::format("a {} site, and this pipeline has no {}_check to take it", other, other));
            }
            continue;
        }
        helpers.push_back({other, p, list.size()});
    }
    auto defs = definitions(text, name, section, *config, kind, mine, !ctx.delegated, allow_secrets, diags);
    // Every other kind validated by its plugin before anything is published.
    bool valid = defs.has_value() && diags.error_count() == before;
    for (const auto& h : helpers) {
        auto dry = peer_args;
        if (!dry_run) {
            dry.emplace_back("--dry-run");
        }
        valid = hand_to(ctx, *h.peer, dry, diags) == kOk && valid;
    }
    if (!valid) {
        if (!ctx.delegated) {
            *ctx.err << "agent sites: nothing published\n";
        }
        return kConfig;
    }
    if (dry_run) {
        if (!ctx.delegated) {  // the peers validated theirs quietly: one summary here
            std::string counts = fmt::format("{} {}", defs->size(), kind.kind);
            for (const auto& h : helpers) {
                counts += fmt::format(", {} {}", h.count, h.kind);
            }
            *ctx.err << fmt::format("valid: {} site(s); nothing published (--dry-run)\n", counts);
        }
        return kOk;
    }
    if (!defs->empty()) {
        if (!topic.ensure() || !topic.publish(*defs)) {
            return kRuntime;
        }
        *ctx.err << fmt::format("published {} {} site(s) to topic {}\n", defs->size(), kind.kind, config->topic);
    }
    for (const auto& h : helpers) {
        if (int code = hand_to(ctx, *h.peer, peer_args, diags); code != kOk) {
            return code;
        }
    }
    return kOk;
}

}  // namespace vigil::checks
