// SPDX-License-Identifier: Apache-2.0
// http_check's option tables: the plugin-level options, the per-site ones (each also a plugin-level
// default) and the nested tables (basic_auth; json and expect_headers live in assertions.cpp).
#include "check_options.hpp"
#include "http_check_config.hpp"
#include "retries.hpp"
#include "sites_topic_config.hpp"
#include "vigil/version.hpp"

namespace vigil::plugins::http_check {

namespace {
const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", nullptr};
const char* const kFamilies[] = {"any", "ipv4", "ipv6", nullptr};
const char* const kIpModes[] = {"any", "all", nullptr};
const char* const kHttpVersions[] = {"auto", "1.1", "2", "3", nullptr};
}  // namespace

const OptionSpec kBasicAuthOptions[] = {
    {.key = "username", .type = OptionType::String, .required = true, .description = "User name"},
    {.key = "password", .type = OptionType::Secret, .description = "Password (or password_file: a file holding it)"},
    {},
};

const OptionSpec kSitesTopicOptions[] = {
    VIGIL_SITES_TOPIC_OPTIONS("ca_file, client_cert_file, client_key_file, proxy, no_proxy, interface, "
                              "source_address"),
    {.key = "inherit_credentials",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "Topic sites use the plugin-level basic_auth, bearer_token, client certificate and headers"},
    {},
};

// Options a site may set; at plugin level the same keys set the default for every site.
#define VIGIL_HTTP_CHECK_SITE_OPTIONS(DEFAULT)                                                                        \
    {.key = "regex",                                                                                                  \
     .type = OptionType::String,                                                                                      \
     .description = "RE2 pattern searched for in the body (the part read, up to max_body); no match is error=regex"}, \
        {.key = "regex_absent",                                                                                       \
         .type = OptionType::String,                                                                                  \
         .description = "RE2 pattern that must not be found in the body (the part read); a match is error=regex"},    \
        {.key = "max_response_time",                                                                                  \
         .type = OptionType::Duration,                                                                                \
         .description = "Slowest response_time that counts as up; a slower check is error=slow (unset: no limit)"},   \
        {.key = "min_cert_validity",                                                                                  \
         .type = OptionType::Duration,                                                                                \
         .description = "Shortest time the server's certificate must stay valid; less is error=cert_expiring"},       \
        {.key = "interval",                                                                                           \
         .type = OptionType::Duration,                                                                                \
         .default_value = DEFAULT("30s"),                                                                             \
         .description = "Time between the starts of two checks of a site (fixed rate, no drift)"},                    \
        {.key = "timeout",                                                                                            \
         .type = OptionType::Duration,                                                                                \
         .default_value = DEFAULT("10s"),                                                                             \
         .description = "Limit for the whole check, redirects included; past it the check is error=timeout"},         \
        {.key = "method",                                                                                             \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT("GET"),                                                                             \
         .one_of = kMethods,                                                                                          \
         .description = "HTTP method"},                                                                               \
        {.key = "headers", .type = OptionType::StringMap, .description = "Extra request headers, name: value"},       \
        {.key = "body", .type = OptionType::String, .description = "Request body (for POST, PUT, PATCH)"},            \
        {.key = "expect_status",                                                                                      \
         .type = OptionType::StringList,                                                                              \
         .default_value = DEFAULT("[200-399]"),                                                                       \
         .description = "Status codes that count as up: codes (200), ranges (200-299) or classes (2xx)"},             \
        {.key = "follow_redirects",                                                                                   \
         .type = OptionType::Bool,                                                                                    \
         .default_value = DEFAULT("true"),                                                                            \
         .description = "Follow 3xx redirects; the record's status is the final one's"},                              \
        {.key = "max_redirects",                                                                                      \
         .type = OptionType::Int,                                                                                     \
         .default_value = DEFAULT("10"),                                                                              \
         .description = "Redirects followed before the check is error=too_many_redirects"},                           \
        {.key = "allow_downgrade",                                                                                    \
         .type = OptionType::Bool,                                                                                    \
         .default_value = DEFAULT("false"),                                                                           \
         .description = "Follow a redirect from https to plain http (refused otherwise: error=redirect)"},            \
        {.key = "verify_tls",                                                                                         \
         .type = OptionType::Bool,                                                                                    \
         .default_value = DEFAULT("true"),                                                                            \
         .description = "Verify the server's certificate chain and host name"},                                       \
        {.key = "ca_file",                                                                                            \
         .type = OptionType::String,                                                                                  \
         .description = "PEM file of CA certificates to trust instead of the system's"},                              \
        {.key = "ip_family",                                                                                          \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT("any"),                                                                             \
         .one_of = kFamilies,                                                                                         \
         .description = "Resolve to any address, IPv4 only or IPv6 only"},                                            \
        {.key = "max_body",                                                                                           \
         .type = OptionType::Size,                                                                                    \
         .default_value = DEFAULT("1MiB"),                                                                            \
         .description = "Body bytes read at most; the rest is not downloaded and the record says truncated"},         \
        {.key = "user_agent",                                                                                         \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT("vigil/" VIGIL_VERSION),                                                            \
         .description = "User-Agent header"},                                                                         \
        {.key = "json",                                                                                               \
         .type = OptionType::List,                                                                                    \
         .children = kJsonAssertionOptions,                                                                           \
         .description =                                                                                               \
             "Assertions on the JSON body: {pointer, equals | not_equals | below | above | exists | "                 \
             "matches}; a failed one is error=assertion"},                                                            \
        {.key = "expect_headers",                                                                                     \
         .type = OptionType::List,                                                                                    \
         .children = kHeaderAssertionOptions,                                                                         \
         .description = "Assertions on response headers: {name, matches, absent}; a failed one is error=assertion"},  \
        {.key = "basic_auth",                                                                                         \
         .type = OptionType::Map,                                                                                     \
         .children = kBasicAuthOptions,                                                                               \
         .description = "HTTP Basic credentials {username, password | password_file}, sent to the site's origin"},    \
        {.key = "bearer_token",                                                                                       \
         .type = OptionType::Secret,                                                                                  \
         .description = "Authorization: Bearer token (or bearer_token_file), sent to the site's origin only"},        \
        {.key = "client_cert_file",                                                                                   \
         .type = OptionType::String,                                                                                  \
         .description = "PEM client certificate for mutual TLS with the site (with client_key_file)"},                \
        {.key = "client_key_file",                                                                                    \
         .type = OptionType::String,                                                                                  \
         .description = "PEM private key of client_cert_file (not encrypted)"},                                       \
        {.key = "proxy",                                                                                              \
         .type = OptionType::String,                                                                                  \
         .description =                                                                                               \
             "Proxy URL: http://, https://, socks4://, socks4a://, socks5:// or socks5h://; \"\" for none"},          \
        {.key = "no_proxy",                                                                                           \
         .type = OptionType::StringList,                                                                              \
         .description = "Hosts and domains reached without the proxy"},                                               \
        {.key = "http_version",                                                                                       \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT("auto"),                                                                            \
         .one_of = kHttpVersions,                                                                                     \
         .description = "auto, 1.1, 2 or 3; with 2 or 3 an answer in another version is error=assertion"},            \
        {.key = "source_address",                                                                                     \
         .type = OptionType::String,                                                                                  \
         .description = "Local IP address the check connects from"},                                                  \
        {.key = "interface",                                                                                          \
         .type = OptionType::String,                                                                                  \
         .description = "Network interface the check connects through (e.g. eth1)"},                                  \
        {.key = "ip_mode",                                                                                            \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT("any"),                                                                             \
         .one_of = kIpModes,                                                                                          \
         .description = "any: one check; all: one check, and one record, per address the host resolves to"},          \
        VIGIL_RETRY_SITE_OPTIONS(DEFAULT){                                                                            \
            .key = "body_excerpt",                                                                                    \
            .type = OptionType::Bool,                                                                                 \
            .default_value = DEFAULT("false"),                                                                        \
            .description = "A failed check's record keeps the first 1KiB of the body and the response headers"},      \
        {.key = "group",                                                                                              \
         .type = OptionType::String,                                                                                  \
         .default_value = DEFAULT(""),                                                                                \
         .description = "The site's group (a team, a product): the records' `group`, the status page's filter"},

const OptionSpec kSiteOptions[] = {
    {.key = "name",
     .type = OptionType::String,
     .required = true,
     .description = "Unique name of the site: the record's name and the Kafka key"},
    {.key = "url", .type = OptionType::String, .required = true, .description = "http:// or https:// URL to check"},
    VIGIL_HTTP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_NO_DEFAULT){},
};

const OptionSpec kOptions[] = {
    checks::sites_option(kSiteOptions),
    checks::kSitesFileOption,
    checks::kSitesEnvOption,
    VIGIL_HTTP_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_DEFAULT) checks::kMaxConcurrencyOption,
    {.key = "workers",
     .type = OptionType::Int,
     .default_value = "0",
     .description = "Event-loop threads sharing the sites; 0 means one per CPU core"},
    checks::kShardOption,
    checks::kBatchSizeOption,
    checks::kBatchDelayOption,
    {.key = "sites_topic",
     .type = OptionType::Map,
     .children = kSitesTopicOptions,
     .description = "Take the sites from a compacted Kafka topic, shared by the producers of one consumer group "
                    "(instead of sites, sites_file, sites_env and shard)"},
    checks::kLocationOption,
    {},
};

}  // namespace vigil::plugins::http_check
