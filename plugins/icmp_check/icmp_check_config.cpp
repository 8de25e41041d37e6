// SPDX-License-Identifier: Apache-2.0
#include "icmp_check_config.hpp"

#include <arpa/inet.h>

#include <set>

#include <fmt/core.h>

#include "check_config.hpp"
#include "check_options.hpp"
#include "retries.hpp"
#include "host_port.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::icmp_check {

namespace {
const char* const kFamilies[] = {"any", "ipv4", "ipv6", nullptr};
}  // namespace

// Options a site may set; at plugin level the same keys set the default for every site.
#define VIGIL_ICMP_CHECK_SITE_OPTIONS(DEFAULT)                                                           \
    {.key = "interval",                                                                                  \
     .type = OptionType::Duration,                                                                       \
     .default_value = DEFAULT("30s"),                                                                    \
     .description = "Time between the starts of two checks of a site (fixed rate, no drift)"},           \
        {.key = "packets",                                                                               \
         .type = OptionType::Int,                                                                        \
         .default_value = DEFAULT("3"),                                                                  \
         .description = "Echo requests per check (1 to 100)"},                                           \
        {.key = "packet_interval",                                                                       \
         .type = OptionType::Duration,                                                                   \
         .default_value = DEFAULT("200ms"),                                                              \
         .description = "Time between two echo requests of one check (at least 10ms)"},                  \
        {.key = "timeout",                                                                               \
         .type = OptionType::Duration,                                                                   \
         .default_value = DEFAULT("1s"),                                                                 \
         .description = "How long a reply may take; a later one counts as lost"},                        \
        VIGIL_RETRY_SITE_OPTIONS(DEFAULT){                                                               \
            .key = "max_loss",                                                                           \
            .type = OptionType::Float,                                                                   \
            .description =                                                                               \
                "Percent of requests that may go unanswered (0 to 100); above it the check is "          \
                "error=loss. Unset: one reply is enough"},                                               \
        {.key = "max_rtt",                                                                               \
         .type = OptionType::Duration,                                                                   \
         .description = "The replies' mean round-trip time at most; above it the check is error=rtt"},   \
        {.key = "ip_family",                                                                             \
         .type = OptionType::String,                                                                     \
         .default_value = DEFAULT("any"),                                                                \
         .one_of = kFamilies,                                                                            \
         .description = "Resolve to any address, IPv4 only or IPv6 only (the first address is pinged)"}, \
        {.key = "group",                                                                                 \
         .type = OptionType::String,                                                                     \
         .description = "The site's group (a team, a product): the records' group"},

const OptionSpec kSiteOptions[] = {
    {.key = "name",
     .type = OptionType::String,
     .required = true,
     .description = "The site's name (200 characters at most)"},
    {.key = "url", .type = OptionType::String, .required = true, .description = "icmp://host"},
    VIGIL_ICMP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_NO_DEFAULT){},
};

const OptionSpec kOptions[] = {
    VIGIL_CHECK_PLUGIN_OPTIONS(kSiteOptions),
    VIGIL_ICMP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_DEFAULT){},
};

namespace {

// name and url are the site's own; everything else may come from the plugin level.
const Bound<Site> kSiteBound[] = {
    bind<&Site::interval>("interval", {.above_zero = true}),
    bind<&Site::timeout>("timeout", {.above_zero = true}),
    bind<&Site::retries>("retries", {.min = 0, .max = 10}),
    bind<&Site::retry_delay>("retry_delay"),
    bind<&Site::packets>("packets", {.min = 1, .max = 100}),
    bind<&Site::packet_interval>("packet_interval", {.at_least = std::chrono::milliseconds(10)}),
    bind<&Site::max_loss>("max_loss"),
    bind<&Site::max_rtt>("max_rtt", {.above_zero = true}),
    bind<&Site::ip_family>("ip_family"),
    bind<&Site::group>("group"),
};

bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

}  // namespace

const std::span<const Bound<Config>> kBound{checks::kPluginBound<Config>};
const std::span<const Bound<Site>> kBoundSite{kSiteBound};

std::optional<std::string> parse_target(std::string_view url, std::string& why) {
    constexpr std::string_view kScheme = "icmp://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        why = "must start with icmp://";
        return std::nullopt;
    }
    auto host = std::string(url.substr(kScheme.size()));
    if (!host.empty() && host.front() == '[') {
        if (host.size() < 2 || host.back() != ']') {
            why = "an IPv6 address is written [address] (and nothing may follow it)";
            return std::nullopt;
        }
        host = host.substr(1, host.size() - 2);
        if (!checks::is_address_of(AF_INET6, host)) {
            why = fmt::format("\"{}\" is not an IPv6 address", escape_controls(host));
            return std::nullopt;
        }
        return host;
    }
    if (checks::is_address_of(AF_INET6, host)) {
        return host;
    }
    bool ok = !host.empty() && host.size() <= 253;
    for (char c : host) {
        ok = ok && host_char(c);
    }
    if (!ok) {
        why = fmt::format("\"{}\" is not a host name or an IP address (a port or a path has no meaning here)",
                          escape_controls(host));
        return std::nullopt;
    }
    return host;
}

namespace {

std::optional<Site> read_site(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags,
                              std::set<std::string, std::less<>>& warned) {
    auto before = diags.error_count();
    Site s;
    s.name = entry.get_string("name");
    s.url = entry.get_string("url");
    load_bound<Site>(kBoundSite, entry, s, diags, &plugin);
    auto from = [&](const char* key) -> const ConfigNode& { return entry.has(key) ? entry : plugin; };
    auto error = [&](const char* key, std::string message) {
        diags.error(from(key).location_of(key), from(key).path_of(key), std::move(message));
    };
    if (auto problem = label_problem(s.name, 200)) {
        error("name", "the site's name " + *problem);
    }
    if (auto problem = label_problem(s.group, 200); problem && !s.group.empty()) {
        error("group", "the group's name " + *problem);
    }
    std::string why;
    if (auto host = parse_target(s.url, why)) {
        s.host = *host;
    } else {
        error("url", fmt::format("\"{}\" is not an ICMP target: {}", escape_controls(s.url), why));
    }
    if (s.max_loss && (*s.max_loss < 0 || *s.max_loss > 100)) {
        error("max_loss", fmt::format("must be a percent from 0 to 100, got {}", *s.max_loss));
    }
    auto length = s.packet_interval * (s.packets - 1) + s.timeout;
    if (length > s.interval && s.interval > Duration::zero() &&
        warned.insert(from("packets").path_of("packets")).second) {
        diags.warning(from("packets").location_of("packets"), from("packets").path_of("packets"),
                      fmt::format("{} packets {} apart, each answered within {}, take up to {}: longer than the "
                                  "interval {}, so checks will skip slots",
                                  s.packets, format_duration(s.packet_interval), format_duration(s.timeout),
                                  format_duration(length), format_duration(s.interval)));
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return s;
}

checks::ReadSite<Site> make_site_reader() {
    // Shared by every site read: patterns compiled once per text, one warning per setting.
    auto warned = std::make_shared<std::set<std::string, std::less<>>>();
    return [warned](const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags) {
        return read_site(plugin, entry, diags, *warned);
    };
}

}  // namespace

const checks::CheckKind<Site> kKind{.plugin = "icmp_check",
                                    .kind = "icmp",
                                    .site_table = kSiteOptions,
                                    .restricted = {},
                                    .make_reader = &make_site_reader};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    return checks::read_check_config<Config>(node, diags, kBound, kKind);
}

}  // namespace vigil::plugins::icmp_check
