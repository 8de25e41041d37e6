// SPDX-License-Identifier: Apache-2.0
#include "host_port.hpp"

#include <arpa/inet.h>

#include <charconv>

#include <fmt/core.h>

#include "vigil/text.hpp"

namespace vigil::checks {

namespace {
bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}
}  // namespace

bool is_address_of(int family, const std::string& text) {
    unsigned char buf[sizeof(in6_addr)];
    return text.find('\0') == std::string::npos && inet_pton(family, text.c_str(), buf) == 1;
}

bool is_address(const std::string& host) { return is_address_of(AF_INET, host) || is_address_of(AF_INET6, host); }

std::optional<HostPort> parse_host_port(std::string_view url, std::string_view scheme, std::string& why) {
    if (url.substr(0, scheme.size()) != scheme) {
        why = fmt::format("must start with {}", scheme);
        return std::nullopt;
    }
    auto rest = url.substr(scheme.size());
    HostPort t;
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            why = "an IPv6 address is written [address]:port";
            return std::nullopt;
        }
        t.host = std::string(rest.substr(1, close - 1));
        if (!is_address_of(AF_INET6, t.host)) {
            why = fmt::format("\"{}\" is not an IPv6 address", escape_controls(t.host));
            return std::nullopt;
        }
        port_text = rest.substr(close + 2);
    } else {
        auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            why = fmt::format("needs a port: {}host:port", scheme);
            return std::nullopt;
        }
        t.host = std::string(rest.substr(0, colon));
        port_text = rest.substr(colon + 1);
        bool ok = !t.host.empty() && t.host.size() <= 253;
        for (char c : t.host) {
            ok = ok && host_char(c);
        }
        if (!ok) {
            why = fmt::format("\"{}\" is not a host name or an IPv4 address", escape_controls(t.host));
            return std::nullopt;
        }
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
        why = fmt::format("\"{}\" is not a port from 1 to 65535 (and nothing may follow it)",
                          escape_controls(std::string(port_text)));
        return std::nullopt;
    }
    t.port = static_cast<std::uint16_t>(port);
    return t;
}

}  // namespace vigil::checks
