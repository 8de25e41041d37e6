// SPDX-License-Identifier: Apache-2.0
// dns_check's options: the sites (dns://server/name?type=T and what the answer must be), the lists
// they come from, and the plugin-level defaults every site inherits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check_config.hpp"
#include "pattern.hpp"
#include "shard.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::dns_check {

using checks::Pattern;
using checks::Shard;

/// The option tables: the plugin's and one site's. The single source of truth for validation,
/// the README and --check-config.
extern const OptionSpec kOptions[];
extern const OptionSpec kSiteOptions[];

/// The record types a site may ask for, as written in `?type=`.
extern const char* const kTypes[];
/// The response codes a site may expect (RFC 1035 and 2136's first eleven), as written.
extern const char* const kRcodes[];

/// `dns://[server[:port]]/name[?type=T]`, read strictly. No server: the system's resolvers
/// (/etc/resolv.conf). The server is an address (IPv4, or IPv6 in brackets), as a resolver is
/// configured; the port defaults to 53, the type to A.
struct Target {
    std::string server;  // empty: the system's resolvers; an IPv6 literal without its brackets
    std::uint16_t port = 53;
    std::string name;  // as written, without a trailing dot
    std::string type = "A";
    int qtype = 1;  // the type's number on the wire
    bool operator==(const Target&) const = default;
};
/// The target of `url`, or why it is not one.
std::optional<Target> parse_target(std::string_view url, std::string& why);

enum class Transport { Udp, Tcp };

struct Site {
    std::string name;
    std::string url;  // as written
    Target target;
    Duration interval{};
    Duration timeout{};
    int retries = 0;                   // attempts after a failed one
    Duration retry_delay{};            // between a failed attempt and the next
    std::string rcode = "NOERROR";     // expected
    std::vector<std::string> answers;  // expected, as a set; empty: any
    std::optional<std::string> expect_text;
    Pattern expect;  // RE2 over the answers, one per line, compiled once
    bool allow_empty = false;
    bool recursion = true;
    Transport transport = Transport::Udp;
    std::string group;

    /// Same check, option for option: a reload keeps the schedule of an unchanged site.
    bool operator==(const Site&) const = default;
};

using Config = checks::CheckConfig<Site>;

/// Which option fills which member: the plugin's and a site's (a site's own value, else the
/// plugin-level one).
extern const std::span<const Bound<Config>> kBound;
extern const std::span<const Bound<Site>> kBoundSite;

/// The kind for the shared machinery: names, site table, the site reader.
extern const checks::CheckKind<Site> kKind;

/// Reads a validated node into a Config; every error goes to `diags` with its location, and
/// then the result is nullopt.
std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

}  // namespace vigil::plugins::dns_check
