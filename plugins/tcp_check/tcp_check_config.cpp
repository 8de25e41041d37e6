// SPDX-License-Identifier: Apache-2.0
#include "tcp_check_config.hpp"

#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "check_options.hpp"
#include "retries.hpp"
#include "host_port.hpp"
#include "check_config.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::tcp_check {

namespace {
const char* const kFamilies[] = {"any", "ipv4", "ipv6", nullptr};
}  // namespace

// Options a site may set; at plugin level the same keys set the default for every site.
#define VIGIL_TCP_CHECK_SITE_OPTIONS(DEFAULT)                                                                     \
    {.key = "interval",                                                                                           \
     .type = OptionType::Duration,                                                                                \
     .default_value = DEFAULT("30s"),                                                                             \
     .description = "Time between the starts of two checks of a site (fixed rate, no drift)"},                    \
        {.key = "timeout",                                                                                        \
         .type = OptionType::Duration,                                                                            \
         .default_value = DEFAULT("10s"),                                                                         \
         .description =                                                                                           \
             "Limit for the whole check (resolve, connect, send, expect); past it the check is "                  \
             "error=timeout"},                                                                                    \
        VIGIL_RETRY_SITE_OPTIONS(DEFAULT){                                                                        \
            .key = "send",                                                                                        \
            .type = OptionType::String,                                                                           \
            .description = "Bytes written once connected (YAML escapes such as \\r\\n work in double quotes)"},   \
        {.key = "expect",                                                                                         \
         .type = OptionType::String,                                                                              \
         .description = "RE2 pattern searched for in the bytes read (up to max_read); no match is error=expect"}, \
        {.key = "max_read",                                                                                       \
         .type = OptionType::Size,                                                                                \
         .default_value = DEFAULT("4KiB"),                                                                        \
         .description = "Bytes read at most while waiting for expect (1B to 1MiB)"},                              \
        {.key = "ip_family",                                                                                      \
         .type = OptionType::String,                                                                              \
         .default_value = DEFAULT("any"),                                                                         \
         .one_of = kFamilies,                                                                                     \
         .description = "Resolve to any address, IPv4 only or IPv6 only (the first address is connected to)"},    \
        {.key = "group",                                                                                          \
         .type = OptionType::String,                                                                              \
         .description = "The site's group (a team, a product): the records' group"},

const OptionSpec kSiteOptions[] = {
    {.key = "name",
     .type = OptionType::String,
     .required = true,
     .description = "The site's name (200 characters at most)"},
    {.key = "url", .type = OptionType::String, .required = true, .description = "tcp://host:port"},
    VIGIL_TCP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_NO_DEFAULT){},
};

const OptionSpec kOptions[] = {
    VIGIL_CHECK_PLUGIN_OPTIONS(kSiteOptions),
    VIGIL_TCP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_DEFAULT){},
};

namespace {

// name and url are the site's own; everything else may come from the plugin level.
const Bound<Site> kSiteBound[] = {
    bind<&Site::interval>("interval", {.above_zero = true}),
    bind<&Site::timeout>("timeout", {.above_zero = true}),
    bind<&Site::retries>("retries", {.min = 0, .max = 10}),
    bind<&Site::retry_delay>("retry_delay"),
    bind<&Site::send>("send"),
    bind<&Site::expect_text>("expect"),
    bind<&Site::max_read>("max_read", {.min = 1, .max = 1 << 20}),
    bind<&Site::ip_family>("ip_family"),
    bind<&Site::group>("group"),
};

}  // namespace

const std::span<const Bound<Config>> kBound{checks::kPluginBound<Config>};
const std::span<const Bound<Site>> kBoundSite{kSiteBound};

std::optional<Target> parse_target(std::string_view url, std::string& why) {
    return checks::parse_host_port(url, "tcp://", why);
}

namespace {

// Reads one site: its own value where it sets one, else the plugin-level one. Patterns are
// compiled once per text (sites share a handful; an RE2 costs tens of KiB).
std::optional<Site> read_site(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags,
                              std::map<std::string, Pattern, std::less<>>& patterns,
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
    if (auto target = parse_target(s.url, why)) {
        s.target = *target;
    } else {
        error("url", fmt::format("\"{}\" is not a TCP target: {}", escape_controls(s.url), why));
    }
    if (s.expect_text) {
        auto& cached = patterns[*s.expect_text];
        if (!cached) {
            re2::RE2::Options o;
            o.set_log_errors(false);
            cached = Pattern(std::make_shared<re2::RE2>(*s.expect_text, o));
        }
        if (!cached->ok()) {
            error("expect", fmt::format("invalid regular expression \"{}\": {}", *s.expect_text, cached->error()));
        }
        s.expect = cached;
    }
    if (s.timeout > s.interval && s.interval > Duration::zero() &&
        warned.insert(from("timeout").path_of("timeout")).second) {
        diags.warning(from("timeout").location_of("timeout"), from("timeout").path_of("timeout"),
                      fmt::format("timeout {} is longer than interval {}: a slow site will skip slots",
                                  format_duration(s.timeout), format_duration(s.interval)));
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return s;
}

checks::ReadSite<Site> make_site_reader() {
    // Shared by every site read: patterns compiled once per text, one warning per setting.
    auto patterns = std::make_shared<std::map<std::string, Pattern, std::less<>>>();
    auto warned = std::make_shared<std::set<std::string, std::less<>>>();
    return [patterns, warned](const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags) {
        return read_site(plugin, entry, diags, *patterns, *warned);
    };
}

}  // namespace

const checks::CheckKind<Site> kKind{.plugin = "tcp_check",
                                    .kind = "tcp",
                                    .site_table = kSiteOptions,
                                    .restricted = {},
                                    .make_reader = &make_site_reader};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    return checks::read_check_config<Config>(node, diags, kBound, kKind);
}

}  // namespace vigil::plugins::tcp_check
