// SPDX-License-Identifier: Apache-2.0
#include "kafka_options.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

namespace vigil::plugins::kafka {

namespace {
const char* const kProtocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", nullptr};
const char* const kMechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", nullptr};
}  // namespace

const OptionSpec kSecurityOptions[] = {
    {.key = "protocol",
     .type = OptionType::String,
     .default_value = "PLAINTEXT",
     .one_of = kProtocols,
     .description = "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"},
    {.key = "sasl_mechanism",
     .type = OptionType::String,
     .default_value = "PLAIN",
     .one_of = kMechanisms,
     .description = "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL protocols only)"},
    {.key = "username",
     .type = OptionType::String,
     .description = "SASL user name (the original project's KAFKA_USERNAME)"},
    {.key = "password",
     .type = OptionType::Secret,
     .description = "SASL password; or password_file naming a file that holds it (never printed)"},
    {.key = "ca_file",
     .type = OptionType::String,
     .description = "PEM file of the CA that signed the brokers' certificates; default: the system's CAs"},
    {.key = "cert_file",
     .type = OptionType::String,
     .description = "PEM client certificate (mutual TLS), with key_file"},
    {.key = "key_file", .type = OptionType::String, .description = "PEM private key of cert_file"},
    {},
};

const OwnedProperty kClientOwned[] = {
    {"bootstrap.servers", "set `brokers` instead"},
    {"metadata.broker.list", "set `brokers` instead"},
    {"security.protocol", "set `security.protocol` instead"},
    {"sasl.mechanism", "set `security.sasl_mechanism` instead"},
    {"sasl.mechanisms", "set `security.sasl_mechanism` instead"},
    {"sasl.username", "set `security.username` instead"},
    {"sasl.password", "set `security.password` or `security.password_file` instead, which are never printed"},
    {"ssl.ca.location", "set `security.ca_file` instead"},
    {"ssl.certificate.location", "set `security.cert_file` instead"},
    {"ssl.key.location", "set `security.key_file` instead"},
    {"client.id", "Vigil names each client after its plugin instance"},
    {nullptr, nullptr},
};

std::string property(const Properties& props, const std::string& key) {
    std::string value;
    for (const auto& [k, v] : props) {
        if (k == key) {
            value = v;
        }
    }
    return value;
}

namespace {

// A file option: resolved against the pipeline file and readable now, so a typo is a config
// error rather than a TLS failure at the first connection.
std::string readable_file(const ConfigNode& node, const char* key, Diagnostics& diags) {
    auto text = node.get_string(key);
    if (text.empty()) {
        return {};
    }
    auto path = node.resolve_path(text);
    if (::access(path.c_str(), R_OK) != 0) {
        diags.error(node.location_of(key), node.path_of(key),
                    fmt::format("cannot read \"{}\": {}", path.string(), std::strerror(errno)));
    }
    return path.string();
}

}  // namespace

void read_connection(const ConfigNode& node, Properties& props, Diagnostics& diags) {
    auto brokers = node.get_string("brokers");
    if (brokers.find_first_not_of(" ,") == std::string::npos) {
        diags.error(node.location_of("brokers"), node.path_of("brokers"),
                    "no broker given; expected host:port[,host:port...]");
    }
    props.emplace_back("bootstrap.servers", brokers);
    // librdkafka backs off reconnecting up to 10 s by default: after an outage that is up to 10 s
    // of a broker that is back and unused. 2 s caps it (the `librdkafka:` map may still say more).
    props.emplace_back("reconnect.backoff.max.ms", "2000");

    auto sec = node.child("security");
    auto protocol = sec.get_string("protocol");
    props.emplace_back("security.protocol", protocol);
    bool sasl = protocol.rfind("SASL_", 0) == 0;
    bool tls = protocol == "SSL" || protocol == "SASL_SSL";
    auto user = sec.get_string("username");
    auto password = sec.get_secret("password");
    if (sasl) {
        auto mechanism = sec.get_string("sasl_mechanism");
        props.emplace_back("sasl.mechanism", mechanism);
        if (user.empty()) {
            diags.error(sec.location_of("username"), sec.path_of("username"),
                        fmt::format("protocol {} needs a username", protocol));
        }
        if (password.empty()) {
            diags.error(sec.location_of("password"), sec.path_of("password"),
                        fmt::format("protocol {} needs a password (or password_file)", protocol));
        }
        props.emplace_back("sasl.username", user);
        props.emplace_back("sasl.password", password.reveal());
        if (mechanism.rfind("SCRAM", 0) == 0 && rd_kafka_version() < 0x020601ff) {
            diags.warning(sec.location_of("sasl_mechanism"), sec.path_of("sasl_mechanism"),
                          fmt::format("librdkafka {} fails {} against Kafka 4 brokers (librdkafka issue "
                                      "#4895, fixed in 2.6.1); Kafka 3 brokers work, or use PLAIN over SASL_SSL",
                                      rd_kafka_version_str(), mechanism));
        }
        if (!tls) {
            diags.warning(sec.location_of("protocol"), sec.path_of("protocol"),
                          fmt::format("SASL_PLAINTEXT: the {} and every record cross the network unencrypted; "
                                      "use SASL_SSL",
                                      mechanism == "PLAIN" ? "password" : "SCRAM exchange"));
        }
    } else if (!user.empty() || !password.empty()) {
        // A warning, not an error: one pipeline file serves PLAINTEXT locally and SASL_SSL in
        // production through ${VAR}s, so credentials may be present and unused.
        diags.warning(sec.location_of(user.empty() ? "password" : "username"), sec.path(),
                      fmt::format("username and password are ignored with protocol {} (no SASL)", protocol));
    }
    if (!tls) {
        for (const char* k : {"ca_file", "cert_file", "key_file"}) {
            if (!sec.get_string(k).empty()) {
                diags.warning(sec.location_of(k), sec.path_of(k),
                              fmt::format("ignored with protocol {} (no TLS)", protocol));
            }
        }
        return;
    }
    // Said explicitly rather than left to librdkafka's defaults, which changed across versions
    // (host-name checks became the default only in 2.0).
    props.emplace_back("enable.ssl.certificate.verification", "true");
    props.emplace_back("ssl.endpoint.identification.algorithm", "https");
    auto ca = readable_file(sec, "ca_file", diags);
    auto cert = readable_file(sec, "cert_file", diags);
    auto key = readable_file(sec, "key_file", diags);
    if (cert.empty() != key.empty()) {
        const char* missing = cert.empty() ? "cert_file" : "key_file";
        diags.error(sec.location_of(cert.empty() ? "key_file" : "cert_file"), sec.path(),
                    fmt::format("cert_file and key_file go together; {} is missing", missing));
    }
    if (!ca.empty()) {
        props.emplace_back("ssl.ca.location", ca);
    }
    if (!cert.empty() && !key.empty()) {
        props.emplace_back("ssl.certificate.location", cert);
        props.emplace_back("ssl.key.location", key);
    }
}

void read_passthrough(const ConfigNode& node, const OwnedProperty* owned, Properties& props, Diagnostics& diags) {
    if (!node.has("librdkafka")) {
        return;
    }
    std::unique_ptr<rd_kafka_conf_t, void (*)(rd_kafka_conf_t*)> probe(rd_kafka_conf_new(), rd_kafka_conf_destroy);
    for (const auto& [key, value] : node.get_string_map("librdkafka")) {
        auto where = node.location_of_entry("librdkafka", key);
        auto path = node.path_of("librdkafka") + "." + key;
        const char* reason = nullptr;
        for (const auto* table : {owned, kClientOwned}) {
            for (const OwnedProperty* o = table; o != nullptr && o->key != nullptr; ++o) {
                if (key == o->key) {
                    reason = o->reason;
                }
            }
        }
        if (reason != nullptr) {
            diags.error(where, path, fmt::format("Vigil sets this property itself: {}", reason));
            continue;
        }
        char err[512] = "";
        if (rd_kafka_conf_set(probe.get(), key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            diags.error(where, path, fmt::format("librdkafka: {}", err));
            continue;
        }
        props.emplace_back(key, value);
        auto off = [text = value.c_str()](std::initializer_list<const char*> words) {
            return std::any_of(words.begin(), words.end(), [&](const char* w) { return strcasecmp(text, w) == 0; });
        };
        if (key == "enable.ssl.certificate.verification" && off({"false", "0", "no", "off"})) {
            diags.warning(where, path,
                          "the brokers' certificates are not verified: anyone on the path can pose as "
                          "the cluster (and read the SASL password)");
        } else if (key == "ssl.endpoint.identification.algorithm" && off({"none", ""})) {
            diags.warning(where, path,
                          "the brokers' host names are not checked against their certificates: any "
                          "certificate the CA signed passes for any broker");
        }
    }
}

void validate_client(rd_kafka_type_t type, const Properties& props, const ConfigNode& node, Diagnostics& diags) {
    if (diags.has_errors()) {
        return;  // the entries are reported already; a combined check would only repeat them
    }
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512] = "";
    for (const auto& [key, value] : props) {
        if (key == "bootstrap.servers") {
            continue;  // with no broker the client connects nowhere
        }
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            diags.error(node.location(), node.path(), fmt::format("librdkafka refused {}: {}", key, err));
            rd_kafka_conf_destroy(conf);
            return;
        }
    }
    // Silence the "no bootstrap.servers" notice of this throwaway client.
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        // Point at the option the message is about when it names one of ours.
        std::string text = err;
        auto sec = node.child("security");
        SourceLocation at = node.has("librdkafka") ? node.location_of("librdkafka") : node.location();
        std::string path = node.has("librdkafka") ? node.path_of("librdkafka") : node.path();
        for (auto [prop, key] :
             {std::pair{"ssl.ca.location", "ca_file"}, std::pair{"ssl.certificate.location", "cert_file"},
              std::pair{"ssl.key.location", "key_file"}}) {
            if (text.find(prop) != std::string::npos && sec.has(key)) {
                at = sec.location_of(key);
                path = sec.path_of(key);
            }
        }
        diags.error(at, path, fmt::format("librdkafka refused the configuration: {}", text));
        return;
    }
    rd_kafka_destroy(rk);
}

std::chrono::milliseconds read_session_timeout(const ConfigNode& node, Diagnostics& diags) {
    auto session = std::chrono::duration_cast<std::chrono::milliseconds>(node.get_duration("session_timeout"));
    if (session < std::chrono::seconds(6) || session > std::chrono::minutes(30)) {
        diags.error(node.location_of("session_timeout"), node.path_of("session_timeout"),
                    fmt::format("must be between 6s and 30m (what brokers accept by default), got {}",
                                format_duration(session)));
    }
    return session;
}

bool valid_topic_name(const std::string& name) {
    return !name.empty() && name.size() <= 249 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
               std::string::npos;
}

void add_group_member(Properties& props, const std::string& client_id, const std::string& group,
                      const std::string& start, std::chrono::milliseconds session) {
    props.insert(props.end(),
                 {{"client.id", client_id},
                  {"group.id", group},
                  {"enable.auto.commit", "false"},
                  {"enable.auto.offset.store", "false"},
                  {"auto.offset.reset", start},
                  {"session.timeout.ms", std::to_string(session.count())},
                  // A third of the session, as Kafka advises, at most 3 s.
                  {"heartbeat.interval.ms", std::to_string(std::min<std::int64_t>(3000, session.count() / 3))}});
}

}  // namespace vigil::plugins::kafka
