// SPDX-License-Identifier: Apache-2.0
// ICMP and ICMPv6 echo messages: the requests icmp_check sends, and what it makes of the bytes a
// socket returns (an echo reply of ours, an error about a request of ours, or nothing of ours).
// Pure functions over bytes, so the tests and the fuzzer call exactly what the prober calls; every
// length is checked before it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::plugins::icmp_check {

/// Bytes of payload after the 8-byte header: the prober's cookie (8 bytes), so a reply is known
/// to answer a request of this prober, and 8 bytes of padding (ping's 16 bytes of timestamp and
/// more are not needed: the send time stays here).
inline constexpr std::size_t kPayload = 16;

/// An echo request (type 8, or 128 for ICMPv6) with `id`, `seq` and the cookie; its checksum is
/// filled in for IPv4 (the kernel computes ICMPv6's, and a ping socket's).
std::string echo_request(bool v6, std::uint16_t id, std::uint16_t seq, std::uint64_t cookie);

struct Reply {
    enum class Kind { Echo, Unreachable };
    Kind kind = Kind::Echo;
    std::uint16_t id = 0;
    std::uint16_t seq = 0;
    std::string why;  // for Unreachable: "host unreachable", "port unreachable", ...
};

/// What `bytes` from an ICMP socket say. `with_ip_header`: a raw IPv4 socket returns the IP
/// header first. An echo reply counts only with the cookie; an error (destination unreachable,
/// time exceeded) is about a request of ours when the request it quotes is an echo request.
/// Anything else (another program's traffic, our own requests seen on loopback, truncated or
/// forged bytes) is nullopt.
std::optional<Reply> read_reply(bool v6, bool with_ip_header, std::string_view bytes, std::uint64_t cookie);

}  // namespace vigil::plugins::icmp_check
