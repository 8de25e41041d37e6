// SPDX-License-Identifier: Apache-2.0
#include "tls_check_config.hpp"

#include <set>

#include <fmt/core.h>

#include "check_config.hpp"
#include "check_options.hpp"
#include "retries.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::tls_check {

namespace {
const char* const kFamilies[] = {"any", "ipv4", "ipv6", nullptr};
const char* const kVersions[] = {"tls1.0", "tls1.1", "tls1.2", "tls1.3", nullptr};
}  // namespace

// Options a site may set; at plugin level the same keys set the default for every site.
#define VIGIL_TLS_CHECK_SITE_OPTIONS(DEFAULT)                                                                      \
    {.key = "interval",                                                                                            \
     .type = OptionType::Duration,                                                                                 \
     .default_value = DEFAULT("30s"),                                                                              \
     .description = "Time between the starts of two checks of a site (fixed rate, no drift)"},                     \
        {.key = "timeout",                                                                                         \
         .type = OptionType::Duration,                                                                             \
         .default_value = DEFAULT("10s"),                                                                          \
         .description =                                                                                            \
             "Limit for the whole check (resolve, connect, STARTTLS, handshake); past it the check "               \
             "is error=timeout"},                                                                                  \
        VIGIL_RETRY_SITE_OPTIONS(DEFAULT){                                                                         \
            .key = "starttls",                                                                                     \
            .type = OptionType::String,                                                                            \
            .default_value = DEFAULT("auto"),                                                                      \
            .one_of = kStarttlsNames,                                                                              \
            .description =                                                                                         \
                "starttls:// only: the dialogue before the handshake; auto goes by the port (25 and "              \
                "587 smtp, 143 imap, 110 pop3, 21 ftp, 5222 xmpp, 5432 postgres)"},                                \
        {.key = "server_name",                                                                                     \
         .type = OptionType::String,                                                                               \
         .description = "The name sent as SNI and that the certificate must hold (default: the URL's host)"},      \
        {.key = "ca_file",                                                                                         \
         .type = OptionType::String,                                                                               \
         .description = "PEM file of the CAs to trust (default: the system's store)"},                             \
        {.key = "verify",                                                                                          \
         .type = OptionType::Bool,                                                                                 \
         .default_value = DEFAULT("true"),                                                                         \
         .description = "Whether an untrusted chain or another name is error=certificate (false: recorded only)"}, \
        {.key = "min_cert_validity",                                                                               \
         .type = OptionType::Duration,                                                                             \
         .description = "The certificate must stay valid at least this long (14d); less is error=expiring"},       \
        {.key = "min_version",                                                                                     \
         .type = OptionType::String,                                                                               \
         .default_value = DEFAULT("tls1.2"),                                                                       \
         .one_of = kVersions,                                                                                      \
         .description =                                                                                            \
             "The oldest protocol version offered; a server that speaks only older ones fails the "                \
             "handshake (error=tls)"},                                                                             \
        {.key = "ip_family",                                                                                       \
         .type = OptionType::String,                                                                               \
         .default_value = DEFAULT("any"),                                                                          \
         .one_of = kFamilies,                                                                                      \
         .description = "Resolve to any address, IPv4 only or IPv6 only (the first address is connected to)"},     \
        {.key = "group",                                                                                           \
         .type = OptionType::String,                                                                               \
         .description = "The site's group (a team, a product): the records' group"},

const OptionSpec kSiteOptions[] = {
    {.key = "name",
     .type = OptionType::String,
     .required = true,
     .description = "The site's name (200 characters at most)"},
    {.key = "url",
     .type = OptionType::String,
     .required = true,
     .description = "tls://host:port, or starttls://host:port for a plain-text dialogue first"},
    VIGIL_TLS_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_NO_DEFAULT){},
};

const OptionSpec kOptions[] = {
    VIGIL_CHECK_PLUGIN_OPTIONS(kSiteOptions),
    VIGIL_TLS_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_DEFAULT){},
};

namespace {

const Bound<Site> kSiteBound[] = {
    bind<&Site::interval>("interval", {.above_zero = true}),
    bind<&Site::timeout>("timeout", {.above_zero = true}),
    bind<&Site::retries>("retries", {.min = 0, .max = 10}),
    bind<&Site::retry_delay>("retry_delay"),
    bind<&Site::starttls>("starttls"),
    bind<&Site::server_name>("server_name"),
    bind<&Site::ca_file>("ca_file"),
    bind<&Site::verify>("verify"),
    bind<&Site::min_cert_validity>("min_cert_validity", {.above_zero = true}),
    bind<&Site::min_version>("min_version"),
    bind<&Site::ip_family>("ip_family"),
    bind<&Site::group>("group"),
};

}  // namespace

const std::span<const Bound<Config>> kBound{checks::kPluginBound<Config>};
const std::span<const Bound<Site>> kBoundSite{kSiteBound};

std::optional<Target> parse_target(std::string_view url, std::string& why) {
    Target t;
    t.starttls = url.substr(0, 11) == "starttls://";
    if (!t.starttls && url.substr(0, 6) != "tls://") {
        why = "must start with tls:// or starttls://";
        return std::nullopt;
    }
    auto at = checks::parse_host_port(url, t.starttls ? "starttls://" : "tls://", why);
    if (!at) {
        return std::nullopt;
    }
    t.at = *at;
    return t;
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
    if (auto target = parse_target(s.url, why)) {
        s.target = *target;
        if (s.target.starttls) {
            if (s.starttls != StarttlsOption::Auto) {
                s.protocol = static_cast<Protocol>(static_cast<int>(s.starttls) - 1);
            } else if (auto known = protocol_for_port(s.target.at.port)) {
                s.protocol = *known;
            } else {
                error("url", fmt::format("port {} is not one a STARTTLS protocol is known by: set starttls to smtp, "
                                         "imap, pop3, ftp, xmpp or postgres",
                                         s.target.at.port));
            }
        }
    } else {
        error("url", fmt::format("\"{}\" is not a TLS target: {}", escape_controls(s.url), why));
    }
    if (s.ca_file && !std::filesystem::is_regular_file(*s.ca_file)) {
        error("ca_file", fmt::format("\"{}\" is not a file", s.ca_file->string()));
    }
    if (s.server_name && (s.server_name->empty() || label_problem(*s.server_name, 253))) {
        error("server_name", fmt::format("\"{}\" is not a host name", escape_controls(*s.server_name)));
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
    auto warned = std::make_shared<std::set<std::string, std::less<>>>();
    return [warned](const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags) {
        return read_site(plugin, entry, diags, *warned);
    };
}

}  // namespace

const checks::CheckKind<Site> kKind{.plugin = "tls_check",
                                    .kind = "tls",
                                    .site_table = kSiteOptions,
                                    .restricted = {kTopicRestricted},
                                    .make_reader = &make_site_reader};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    return checks::read_check_config<Config>(node, diags, kBound, kKind);
}

}  // namespace vigil::plugins::tls_check
