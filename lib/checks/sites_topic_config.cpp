// SPDX-License-Identifier: Apache-2.0
#include "sites_topic_config.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <fmt/format.h>

#include "untrusted_json.hpp"
#include "vigil/text.hpp"

namespace vigil::checks {

namespace kafka = plugins::kafka;

namespace {
// What reading the site list depends on, so the pass-through map may not change it.
const kafka::OwnedProperty kOwned[] = {
    {"group.id", "set `group` instead"},
    {"enable.auto.commit", "nothing is committed: each assigned partition is read from its start"},
    {"auto.commit.enable", "nothing is committed: each assigned partition is read from its start"},
    {"enable.auto.offset.store", "nothing is committed: each assigned partition is read from its start"},
    {"auto.offset.reset", "each assigned partition is read from its start"},
    {"session.timeout.ms", "set `session_timeout` instead"},
    {nullptr, nullptr},
};
}  // namespace

namespace {
const Bound<SitesTopicConfig> kBoundOptions[] = {
    bind<&SitesTopicConfig::topic>("topic"),
    bind<&SitesTopicConfig::group>("group"),
    bind<&SitesTopicConfig::partitions>("partitions", {.min = 1, .max = 10000}),
    bind<&SitesTopicConfig::replication_factor>("replication_factor", {.min = -1, .max = 100}),
};
}  // namespace
const std::span<const Bound<SitesTopicConfig>> kBoundSitesTopicConfig{kBoundOptions};

std::optional<SitesTopicConfig> read_sites_topic(const ConfigNode& node, std::string_view kind,
                                                 std::span<const char* const> restricted, Diagnostics& diags) {
    std::size_t before = diags.error_count();
    SitesTopicConfig c;
    c.kind = kind;
    load_bound(kBoundSitesTopicConfig, node, c, diags);
    if (!kafka::valid_topic_name(c.topic)) {
        diags.error(node.location_of("topic"), node.path_of("topic"),
                    fmt::format("\"{}\" is not a valid Kafka topic name", c.topic));
    }
    if (c.group.empty()) {
        diags.error(node.location_of("group"), node.path_of("group"), "must not be empty");
    }
    auto session = kafka::read_session_timeout(node, diags);
    c.session_timeout = session;
    if (c.replication_factor == 0) {
        diags.error(node.location_of("replication_factor"), node.path_of("replication_factor"),
                    "must be -1 (the brokers' default) or between 1 and 100");
    }
    for (const auto& key : node.get_string_list("allow")) {
        if (std::find_if(restricted.begin(), restricted.end(), [&](const char* k) { return key == k; }) ==
            restricted.end()) {
            diags.error(node.location_of("allow"), node.path_of("allow"),
                        restricted.empty()
                            ? fmt::format("\"{}\": a {} site has no option a message needs allowing", key, kind)
                            : fmt::format("\"{}\" is not one of the options a message needs allowing: {}", key,
                                          fmt::join(restricted, ", ")));
        }
        c.policy.allow.insert(key);
    }
    c.policy.inherit_credentials = node.has("inherit_credentials") && node.get_bool("inherit_credentials");
    kafka::read_connection(node, c.connection, diags);
    c.consumer = c.connection;
    // Nothing is committed: each assigned partition is read from its start ("earliest").
    // Each kind its own group: members of one group share partitions, and a tcp_check given a
    // partition would pass over the http sites in it.
    kafka::add_group_member(c.consumer, fmt::format("vigil-{}_check", kind), fmt::format("{}.{}", c.group, kind),
                            "earliest", session);
    c.consumer.insert(c.consumer.end(), {{"enable.partition.eof", "true"},
                                         // Sticky: when a producer joins or leaves, only the partitions that must
                                         // move do, so the others' sites keep being checked through a rebalance.
                                         {"partition.assignment.strategy", "cooperative-sticky"}});
    kafka::read_passthrough(node, kOwned, c.consumer, diags);
    kafka::validate_client(RD_KAFKA_CONSUMER, c.consumer, node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

void refuse_lists_beside_topic(const ConfigNode& node, Diagnostics& diags) {
    for (const char* other : {"sites", "sites_file", "sites_env", "shard"}) {
        if (node.has(other)) {
            diags.error(node.location_of(other), node.path_of(other),
                        "sites come from sites_topic here: the group shares them out, so no other list "
                        "nor shard goes with it");
        }
    }
}

bool topic_membership_changed(const std::optional<SitesTopicConfig>& before,
                              const std::optional<SitesTopicConfig>& after) {
    return before.has_value() != after.has_value() ||
           (after &&
            (after->topic != before->topic || after->group != before->group || after->consumer != before->consumer));
}

std::string kind_of_url(std::string_view url) {
    auto end = url.find("://");
    if (end == std::string_view::npos || end > 16) {
        return {};
    }
    std::string scheme;
    for (char ch : url.substr(0, end)) {
        scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    if (scheme == "http" || scheme == "https") {
        return "http";
    }
    if (scheme == "starttls") {
        return "tls";
    }
    if (scheme == "tcp" || scheme == "tls" || scheme == "dns" || scheme == "icmp") {
        return scheme;
    }
    return {};
}

std::string no_kind_reason(std::string_view url) {
    return fmt::format(
        "\"{}\" names no kind of check (http://, https://, tcp://, tls://, starttls://, dns://, icmp://)",
        escape_controls(url.substr(0, 200)));
}

std::string kind_of_message(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) {
        if (why != nullptr) {
            *why = std::move(reason);
        }
        return std::string();
    };
    rapidjson::Document doc;
    // A site's definition is small: a message far larger, or deeper, is no site of any kind.
    if (json::parse(text, doc, {.max_bytes = std::size_t{1} << 20, .max_depth = 16}) || !doc.IsObject()) {
        return fail("the value is not a JSON object of site options");
    }
    if (!doc.HasMember("url") || !doc["url"].IsString()) {
        return fail("the site has no url (a string)");
    }
    const auto& url = doc["url"];
    std::string_view value{url.GetString(), url.GetStringLength()};
    auto kind = kind_of_url(value);
    if (kind.empty()) {
        return fail("url " + no_kind_reason(value));
    }
    return kind;
}

}  // namespace vigil::checks
