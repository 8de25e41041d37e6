// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what an ICMP or ICMPv6 socket returns (with and without an IPv4
// header first), read by icmp_check; and as an icmp:// target. Nothing may crash or read past
// the bytes (ASan); an echo reply is ours only with the cookie; an error always says why.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "icmp_check_config.hpp"
#include "packet.hpp"

using namespace vigil::plugins::icmp_check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::uint64_t kCookie = 0x1122334455667788ULL;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (bool v6 : {false, true}) {
        for (bool header : {false, true}) {
            auto r = read_reply(v6, header, bytes, kCookie);
            if (!r) {
                continue;
            }
            if (r->kind == Reply::Kind::Unreachable && (r->why.empty() || r->why.find('\n') != std::string::npos)) {
                std::abort();
            }
            if (r->kind == Reply::Kind::Echo &&
                bytes.find(std::string_view("\x88\x77\x66\x55\x44\x33\x22\x11", 8)) == std::string_view::npos) {
                std::abort();  // an echo reply without the cookie was taken for ours
            }
        }
    }
    std::string why;
    if (auto host = parse_target(bytes, why)) {
        unsigned char v6[16];
        bool address = inet_pton(AF_INET6, host->c_str(), v6) == 1;
        if (host->empty() || host->find_first_of("/@ []") != std::string::npos ||
            (host->find(':') != std::string::npos && !address)) {
            std::abort();  // a host is a name or an address, and only an IPv6 address holds a colon
        }
    } else if (why.empty() || why.find('\n') != std::string::npos) {
        std::abort();
    }
    return 0;
}
