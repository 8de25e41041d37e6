// SPDX-License-Identifier: Apache-2.0
// `host:port` as tcp://, tls:// and starttls:// targets write it: a host name, an IPv4 address
// or a bracketed IPv6 one, and a port from 1 to 65535; nothing after it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::checks {

struct HostPort {
    std::string host;  // an IPv6 literal without its brackets
    std::uint16_t port = 0;
    bool operator==(const HostPort&) const = default;
};

/// `url` read strictly after `scheme` ("tcp://"), or nullopt and why (naming the scheme).
std::optional<HostPort> parse_host_port(std::string_view url, std::string_view scheme, std::string& why);

/// Whether `host` is an IPv4 or IPv6 address rather than a name.
bool is_address(const std::string& host);
/// Whether `text` is, as a whole, an address of `family` (AF_INET or AF_INET6). inet_pton reads
/// a C string: a NUL byte inside `text` would hide whatever follows it, so it is refused here.
bool is_address_of(int family, const std::string& text);

}  // namespace vigil::checks
