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

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::urls>("urls"),
    bind<&Config::labels>("labels"),
    bind<&Config::annotations>("annotations"),
    bind<&Config::ttl>("ttl", {.at_least = std::chrono::seconds(10)}),
    bind<&Config::generator_url>("generator_url"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    load_bound(kBound, node, c, diags);
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
    for (const auto& [name, value] : c.labels) {
        if (!valid_label_name(name) || name.rfind("__", 0) == 0) {
            diags.error(node.location_of_entry("labels", name), node.path_of("labels") + "." + name,
                        "is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
        } else if (kOwn.count(name) > 0) {
            diags.error(node.location_of_entry("labels", name), node.path_of("labels") + "." + name,
                        "is set by the sink itself (alertname, site, url, error, locations identify an alert)");
        }
    }
    for (const auto& [name, value] : c.annotations) {
        if (!valid_label_name(name)) {
            diags.error(node.location_of_entry("annotations", name), node.path_of("annotations") + "." + name,
                        "is not an annotation name ([a-zA-Z_][a-zA-Z0-9_]*)");
        }
    }
    c.http = http::post_options(node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::alertmanager_sink
