// SPDX-License-Identifier: Apache-2.0
// icmp_check's options: the sites (icmp://host and the loss and round-trip limits), the lists
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
#include "ip_family.hpp"
#include "shard.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::icmp_check {

using checks::IpFamily;
using checks::Shard;

/// The option tables: the plugin's and one site's. The single source of truth for validation,
/// the README and --check-config.
extern const OptionSpec kOptions[];
extern const OptionSpec kSiteOptions[];

/// The host of `icmp://host`: a host name, an IPv4 address, or an IPv6 one (bare or in
/// brackets, returned without them); nothing after it. Or nullopt and why.
std::optional<std::string> parse_target(std::string_view url, std::string& why);

struct Site {
    std::string name;
    std::string url;   // as written
    std::string host;  // an IPv6 literal without brackets
    Duration interval{};
    Duration timeout{};               // for each reply
    int retries = 0;                  // attempts after a failed one
    Duration retry_delay{};           // between a failed attempt and the next
    std::int64_t packets = 3;         // echo requests per check
    Duration packet_interval{};       // between two of them
    std::optional<double> max_loss;   // percent; unset: one reply is enough
    std::optional<Duration> max_rtt;  // the replies' mean round-trip time
    IpFamily ip_family = IpFamily::Any;
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

}  // namespace vigil::plugins::icmp_check
