// SPDX-License-Identifier: Apache-2.0
// http_check's options: the plugin-level defaults, the per-site overrides, the site lists
// (inline, sites_file, sites_env) and the checks that make a bad value a located config error.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <re2/re2.h>

#include "assertions.hpp"
#include "pattern.hpp"
#include "ip_family.hpp"
#include "shard.hpp"
#include "sites_topic_config.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::http_check {

// The machinery every check plugin shares (lib/checks), used here as http_check's own.
using checks::IpFamily;
using checks::Pattern;
using checks::Shard;
using checks::SitesTopicConfig;
using checks::stable_hash;
using checks::TopicPolicy;

extern const OptionSpec kOptions[];
extern const OptionSpec kSiteOptions[];
extern const OptionSpec kBasicAuthOptions[];
extern const OptionSpec kSitesTopicOptions[];

/// Options a sites-topic message may set only when `sites_topic.allow` lists them: they name the
/// producer's files or choose where its requests leave from and go through.
inline constexpr const char* kTopicRestricted[] = {"ca_file",  "client_cert_file", "client_key_file", "proxy",
                                                   "no_proxy", "interface",        "source_address"};

/// Accepted status codes: inclusive ranges.
struct StatusSet {
    std::vector<std::pair<int, int>> ranges;
    bool contains(int status) const;
    std::string to_string() const;  // "200-299,301"
    bool operator==(const StatusSet&) const = default;
};

/// `any`: one check over whichever address curl connects to; `all`: one check per address the
/// host name resolves to (within ip_family), each its own record with its remote_ip.
enum class IpMode { Any, All };
/// `auto` is libcurl's choice (HTTP/2 over TLS when the server offers it, else 1.1).
enum class HttpVersion { Auto, Http11, Http2, Http3 };

/// Everything needed to check one site. Immutable once built; shared by the scheduler and the
/// transfers in flight, so a reload can replace it without disturbing a running check.
struct Site {
    std::string name;
    std::string url;
    std::string shown_url;  // url as logs and records show it (redact_url), made once at load
    std::string origin;     // scheme://host:port of url, which redirects compare against
    std::optional<std::string> regex_text;
    Pattern regex;  // compiled once at load
    std::optional<std::string> regex_absent_text;
    Pattern regex_absent;
    Duration max_response_time{};  // zero: no limit
    Duration min_cert_validity{};  // zero: no limit
    Duration interval{};
    Duration timeout{};
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body;
    StatusSet expect_status;
    bool follow_redirects = true;
    long max_redirects = 10;
    bool allow_downgrade = false;  // follow a redirect from https to http
    bool verify_tls = true;
    std::string ca_file;
    IpFamily ip_family = IpFamily::Any;
    IpMode ip_mode = IpMode::Any;
    std::uint64_t max_body = 0;
    std::string user_agent;
    std::vector<JsonAssertion> json;
    std::vector<HeaderAssertion> expect_headers;
    // Credentials, sent to the site's own origin only (never to another origin a redirect names).
    std::string basic_user;
    std::string basic_password;
    std::string bearer_token;
    std::string client_cert_file;
    std::string client_key_file;
    std::optional<std::string> proxy;  // unset: libcurl's http_proxy/https_proxy/no_proxy apply
    std::string no_proxy;              // comma-separated, as libcurl takes it
    HttpVersion http_version = HttpVersion::Auto;
    std::string bind;  // CURLOPT_INTERFACE: "host!ADDRESS" (source_address) or "if!NAME" (interface)
    int retries = 0;
    Duration retry_delay{};
    bool body_excerpt = false;
    std::string group;  // the records' `group`; empty: none

    /// Whether a check keeps body bytes in memory, and how many: all it reads (up to max_body)
    /// when a pattern or a JSON assertion looks at them, the excerpt's size for body_excerpt
    /// alone, none otherwise (the body is only counted).
    std::uint64_t body_kept() const {
        if (regex != nullptr || regex_absent != nullptr || !json.empty()) {
            return max_body;
        }
        return body_excerpt ? std::min<std::uint64_t>(max_body, kExcerptBytes) : 0;
    }
    bool keeps_body() const { return body_kept() > 0; }
    /// Whether a check reads the response headers (an assertion or the excerpt needs them).
    bool keeps_headers() const { return !expect_headers.empty() || body_excerpt; }

    static constexpr std::uint64_t kExcerptBytes = 1024;

    /// Same check, option for option (patterns compared by their text): a reload keeps the
    /// schedule of a site whose options did not change.
    bool operator==(const Site& other) const = default;
};

struct Config {
    ConfigNode plugin;  // the section: the defaults of the sites a sites topic brings later
    std::vector<std::shared_ptr<const Site>> sites;  // after sharding, in file order (none with a topic)
    std::size_t sites_total = 0;                     // before sharding
    Shard shard;
    std::size_t max_concurrency = 1000;
    std::size_t workers = 1;
    std::size_t batch_size = 500;
    Duration batch_delay{};
    std::string location;  // the records' `location`; empty: the agent's host name
    std::optional<SitesTopicConfig> sites_topic;
};

/// Which option fills which member: the plugin's, loaded by parse_config, and a site's, loaded by
/// read_site from the site or else the plugin-level section.
extern const std::span<const Bound<Config>> kBound;
extern const std::span<const Bound<Site>> kBoundSite;

/// The options that make a site itself rather than how it is checked: a site that sets no other
/// starts from SiteCache::base.
inline constexpr const char* kIdentityKeys[] = {"name", "url", "regex", "regex_absent"};

/// What reading many sites shares: compiled patterns (one RE2 per distinct pattern), the
/// warnings already given (one per setting, not one per site), and the plugin-level values read
/// once.
struct SiteCache {
    std::map<std::string, std::shared_ptr<const re2::RE2>> regexes;
    std::set<std::string> warned;
    // Every option but kIdentityKeys' from the plugin level, read and checked once: a list of a
    // million sites that set only those keys costs one read of the defaults, not a million.
    // Unset until first needed; nullptr when the plugin level has an error (each site read
    // whole then reports it where it is, as before).
    std::optional<std::shared_ptr<const Site>> base;
    std::vector<Diagnostic> base_warnings;  // given once, by the first site that uses the base
};

/// Reads one site entry, validated against kSiteOptions, with `plugin` (the section) giving the
/// defaults: every check of parse_config. Problems go to `diags`, located; nullopt if any.
/// `topic` is set for a site from the sites topic: what its message may set and inherit.
std::optional<Site> read_site(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags, SiteCache& cache,
                              const TopicPolicy* topic = nullptr);

/// One sites-topic message's value read as a site (checks::read_topic_entry) under `policy`:
/// nullptr and the first error's line when it is not one.
struct TopicSite {
    std::shared_ptr<const Site> site;
    std::string error;
};
TopicSite read_topic_site(const ConfigNode& plugin, const std::string& key, const std::string& json,
                          const std::string& where, const TopicPolicy& policy, SiteCache& cache);

/// Builds the configuration from a validated node: every site from every list, plugin-level
/// defaults applied, regexes compiled, URLs parsed, duplicate names refused. All problems go to
/// `diags` with their file:line:col; returns nullopt if there was any.
std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

/// scheme://host:port, lower case, the port made explicit (what "same origin" compares); empty
/// when libcurl cannot parse `url`.
std::string origin_of(const std::string& url);
/// The same of a URL libcurl has parsed already.
std::string origin_of(CURLU* parsed);

}  // namespace vigil::plugins::http_check
