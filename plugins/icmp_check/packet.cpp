// SPDX-License-Identifier: Apache-2.0
#include "packet.hpp"

#include <cstring>

namespace vigil::plugins::icmp_check {

namespace {
constexpr std::uint8_t kEchoReply4 = 0, kUnreachable4 = 3, kEchoRequest4 = 8, kTimeExceeded4 = 11;
constexpr std::uint8_t kUnreachable6 = 1, kTimeExceeded6 = 3, kEchoRequest6 = 128, kEchoReply6 = 129;
constexpr std::size_t kHeader = 8;  // type, code, checksum, id, seq
constexpr std::size_t kIpv6Header = 40;

std::uint16_t be16(std::string_view b, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]));
}

// RFC 1071's ones' complement sum.
std::uint16_t checksum(std::string_view b) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
        sum += be16(b, i);
    }
    if (b.size() % 2 == 1) {
        sum += static_cast<std::uint32_t>(static_cast<unsigned char>(b.back()) << 8);
    }
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

// The IPv4 header's length, if `b` starts with a plausible one.
std::optional<std::size_t> ipv4_header(std::string_view b) {
    if (b.size() < 20 || (static_cast<unsigned char>(b[0]) >> 4) != 4) {
        return std::nullopt;
    }
    std::size_t length = (static_cast<unsigned char>(b[0]) & 0x0f) * 4U;
    if (length < 20 || length > b.size()) {
        return std::nullopt;
    }
    return length;
}

std::string unreachable_why(bool v6, std::uint8_t type, std::uint8_t code) {
    if (v6 ? type == kTimeExceeded6 : type == kTimeExceeded4) {
        return "time exceeded (a routing loop, or too many hops)";
    }
    if (v6) {
        switch (code) {
            case 0: return "no route to the host";
            case 1: return "communication administratively prohibited";
            case 3: return "address unreachable";
            case 4: return "port unreachable";
            default: return "destination unreachable (code " + std::to_string(code) + ")";
        }
    }
    switch (code) {
        case 0: return "network unreachable";
        case 1: return "host unreachable";
        case 2: return "protocol unreachable";
        case 3: return "port unreachable";
        case 4: return "fragmentation needed";
        case 9:
        case 10:
        case 13: return "communication administratively prohibited";
        default: return "destination unreachable (code " + std::to_string(code) + ")";
    }
}
}  // namespace

std::string echo_request(bool v6, std::uint16_t id, std::uint16_t seq, std::uint64_t cookie) {
    std::string m(kHeader + kPayload, '\0');
    m[0] = static_cast<char>(v6 ? kEchoRequest6 : kEchoRequest4);
    m[4] = static_cast<char>(id >> 8);
    m[5] = static_cast<char>(id & 0xff);
    m[6] = static_cast<char>(seq >> 8);
    m[7] = static_cast<char>(seq & 0xff);
    std::memcpy(m.data() + kHeader, &cookie, sizeof cookie);
    if (!v6) {
        auto sum = checksum(m);
        m[2] = static_cast<char>(sum >> 8);
        m[3] = static_cast<char>(sum & 0xff);
    }
    return m;
}

std::optional<Reply> read_reply(bool v6, bool with_ip_header, std::string_view bytes, std::uint64_t cookie) {
    if (with_ip_header && !v6) {
        auto ip = ipv4_header(bytes);
        if (!ip) {
            return std::nullopt;
        }
        bytes.remove_prefix(*ip);
    }
    if (bytes.size() < kHeader) {
        return std::nullopt;
    }
    auto type = static_cast<std::uint8_t>(bytes[0]);
    auto code = static_cast<std::uint8_t>(bytes[1]);
    if (type == (v6 ? kEchoReply6 : kEchoReply4)) {
        std::uint64_t theirs = 0;
        if (bytes.size() < kHeader + sizeof theirs) {
            return std::nullopt;
        }
        std::memcpy(&theirs, bytes.data() + kHeader, sizeof theirs);
        if (theirs != cookie) {
            return std::nullopt;  // another program's ping, or a forged reply
        }
        return Reply{Reply::Kind::Echo, be16(bytes, 4), be16(bytes, 6), {}};
    }
    bool error =
        v6 ? (type == kUnreachable6 || type == kTimeExceeded6) : (type == kUnreachable4 || type == kTimeExceeded4);
    if (!error) {
        return std::nullopt;
    }
    // The error quotes the request: its IP header, then (at least) its first 8 bytes.
    auto quoted = bytes.substr(kHeader);
    if (v6) {
        if (quoted.size() < kIpv6Header + kHeader) {
            return std::nullopt;
        }
        quoted.remove_prefix(kIpv6Header);
    } else {
        auto ip = ipv4_header(quoted);
        if (!ip || quoted.size() < *ip + kHeader) {
            return std::nullopt;
        }
        quoted.remove_prefix(*ip);
    }
    if (static_cast<std::uint8_t>(quoted[0]) != (v6 ? kEchoRequest6 : kEchoRequest4)) {
        return std::nullopt;
    }
    return Reply{Reply::Kind::Unreachable, be16(quoted, 4), be16(quoted, 6), unreachable_why(v6, type, code)};
}

}  // namespace vigil::plugins::icmp_check
