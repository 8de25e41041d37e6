// SPDX-License-Identifier: Apache-2.0
// tcp_check's options: the sites (tcp://host:port and what to send and expect), the lists they
// come from, and the plugin-level defaults every site inherits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check_config.hpp"
#include "host_port.hpp"
#include "ip_family.hpp"
#include "pattern.hpp"
#include "shard.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::tcp_check {

using checks::IpFamily;
using checks::Pattern;
using checks::Shard;

/// The option tables: the plugin's and one site's. The single source of truth for validation,
/// the README and --check-config.
extern const OptionSpec kOptions[];
extern const OptionSpec kSiteOptions[];

/// `tcp://host:port`, read strictly: a host name, an IPv4 address or a bracketed IPv6 one, and a
/// port from 1 to 65535; nothing after it.
using Target = checks::HostPort;
/// The target of `url`, or why it is not one.
std::optional<Target> parse_target(std::string_view url, std::string& why);

struct Site {
    std::string name;
    std::string url;  // as written: tcp://host:port
    Target target;
    Duration interval{};
    Duration timeout{};
    int retries = 0;                  // attempts after a failed one
    Duration retry_delay{};           // between a failed attempt and the next
    std::optional<std::string> send;  // written once connected
    std::optional<std::string> expect_text;
    Pattern expect;                 // RE2 over the bytes read, compiled once
    std::uint64_t max_read = 4096;  // bytes read at most while expecting
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

}  // namespace vigil::plugins::tcp_check
