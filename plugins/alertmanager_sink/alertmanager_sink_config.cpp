// SPDX-License-Identifier: Apache-2.0
#include "alertmanager_sink_config.hpp"

#include <filesystem>
#include <set>

#include <fmt/core.h>

namespace vigil::plugins::alertmanager_sink {

const OptionSpec kOptions[] = {
    {.key = "urls",
     .type = OptionType::StringList,
     .required = true,
     .description = "Alertmanager base URLs (http://127.0.0.1:9093); every alert goes to each one's "
                    "/api/v2/alerts, as Prometheus sends to every member of a cluster"},
    {.key = "labels",
     .type = OptionType::StringMap,
     .description = "Labels added to every alert (team: web); not alertname, site, url, error or locations"},
    {.key = "annotations",
     .type = OptionType::StringMap,
     .description = "Annotations added to every alert (runbook_url: ...)"},
    {.key = "ttl",
     .type = OptionType::Duration,
     .default_value = "5m",
     .description = "A firing alert's endsAt is now + ttl: Alertmanager resolves it if nothing re-posts it "
                    "by then. Keep it above 3 x pg_events' refresh"},
    http::kTimeoutOption,
    http::kCaFileOption,
    {.key = "generator_url",
     .type = OptionType::String,
     .default_value = "",
     .description = "The alerts' generatorURL (a status page, a dashboard); empty: none"},
    {},
};

bool valid_label_name(const std::string& name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
        return false;
    }
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return false;
        }
    }
    return true;
}

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    c.urls = node.get_string_list("urls");
    if (c.urls.empty()) {
        diags.error(node.location_of("urls"), node.path_of("urls"), "needs at least one Alertmanager URL");
    }
    for (const auto& url : c.urls) {
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
            diags.error(node.location_of("urls"), node.path_of("urls"),
                        fmt::format("\"{}\" is not an http:// or https:// URL", url));
        }
    }
    static const std::set<std::string> kOwn = {"alertname", "site", "url", "error", "locations"};
    for (const auto& [name, value] : node.get_string_map("labels")) {
        if (!valid_label_name(name) || name.rfind("__", 0) == 0) {
            diags.error(node.location_of_entry("labels", name), node.path_of("labels") + "." + name,
                        "is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
        } else if (kOwn.count(name) > 0) {
            diags.error(node.location_of_entry("labels", name), node.path_of("labels") + "." + name,
                        "is set by the sink itself (alertname, site, url, error, locations identify an alert)");
        }
        c.labels.emplace_back(name, value);
    }
    for (const auto& [name, value] : node.get_string_map("annotations")) {
        if (!valid_label_name(name)) {
            diags.error(node.location_of_entry("annotations", name), node.path_of("annotations") + "." + name,
                        "is not an annotation name ([a-zA-Z_][a-zA-Z0-9_]*)");
        }
        c.annotations.emplace_back(name, value);
    }
    c.ttl = node.get_duration("ttl");
    if (c.ttl < std::chrono::seconds(10)) {
        diags.error(node.location_of("ttl"), node.path_of("ttl"), "must be 10s or more");
    }
    c.http = http::post_options(node, diags);
    c.generator_url = node.get_string("generator_url");
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::alertmanager_sink
