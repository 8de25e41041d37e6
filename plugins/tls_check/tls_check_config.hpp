// SPDX-License-Identifier: Apache-2.0
// tls_check's options: the sites (tls://host:port or starttls://host:port and what the
// certificate must be), the lists they come from, and the plugin-level defaults every site
// inherits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check_config.hpp"
#include "host_port.hpp"
#include "ip_family.hpp"
#include "shard.hpp"
#include "starttls.hpp"
#include "vigil/config.hpp"
#include "vigil/config_map.hpp"

namespace vigil::plugins::tls_check {

using checks::IpFamily;
using checks::Shard;

extern const OptionSpec kOptions[];
extern const OptionSpec kSiteOptions[];

/// `tls://host:port` (TLS from the first byte) or `starttls://host:port` (a plain-text dialogue
/// first), read strictly.
struct Target {
    bool starttls = false;
    checks::HostPort at;
    bool operator==(const Target&) const = default;
};
std::optional<Target> parse_target(std::string_view url, std::string& why);

enum class StarttlsOption { Auto, Smtp, Imap, Pop3, Ftp, Xmpp, Postgres };
enum class TlsVersion { Tls10, Tls11, Tls12, Tls13 };

struct Site {
    std::string name;
    std::string url;  // as written
    Target target;
    std::optional<Protocol> protocol;  // starttls:// only: the dialogue before the handshake
    Duration interval{};
    Duration timeout{};
    int retries = 0;         // attempts after a failed one
    Duration retry_delay{};  // between a failed attempt and the next
    StarttlsOption starttls = StarttlsOption::Auto;
    std::optional<std::string> server_name;        // for SNI and the name check; default: the host
    std::optional<std::filesystem::path> ca_file;  // default: the system's store
    bool verify = true;
    std::optional<Duration> min_cert_validity;
    TlsVersion min_version = TlsVersion::Tls12;
    IpFamily ip_family = IpFamily::Any;
    std::string group;

    /// The name the certificate must hold (and SNI sends, unless it is an address).
    const std::string& name_to_check() const { return server_name ? *server_name : target.at.host; }
    bool operator==(const Site&) const = default;
};

using Config = checks::CheckConfig<Site>;

extern const std::span<const Bound<Config>> kBound;
extern const std::span<const Bound<Site>> kBoundSite;

/// What a sites-topic message may set only when sites_topic.allow lists it: a file of the producer's.
inline constexpr const char* kTopicRestricted[] = {"ca_file"};

/// The kind for the shared machinery: names, site table, the site reader.
extern const checks::CheckKind<Site> kKind;

/// Reads a validated node into a Config; every error goes to `diags` with its location, and then
/// the result is nullopt.
std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags);

}  // namespace vigil::plugins::tls_check
