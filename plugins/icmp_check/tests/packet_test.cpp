// SPDX-License-Identifier: Apache-2.0
// Echo requests as the kernel expects them, and what icmp_check makes of the bytes a socket
// returns: its replies, errors about its requests, and nothing else; the fuzzer's seeds and kept
// crash inputs replay cleanly.
#include <catch2/catch.hpp>

#include <filesystem>

#include "packet.hpp"
#include "prober.hpp"
#include "support.hpp"

using namespace vigil::plugins::icmp_check;

namespace {
constexpr std::uint64_t kCookie = 0x1122334455667788ULL;

// `request` turned into its echo reply (type 0 or 129), as a host answers it.
std::string reply_to(std::string request, bool v6) {
    request[0] = static_cast<char>(v6 ? 129 : 0);
    return request;
}
std::string ipv4_header(std::size_t payload) {
    std::string h(20, '\0');
    h[0] = 0x45;
    h[2] = static_cast<char>((20 + payload) >> 8);
    h[3] = static_cast<char>((20 + payload) & 0xff);
    h[9] = 1;  // ICMP
    return h;
}
}  // namespace

TEST_CASE("icmp_check: an echo request carries the identifier, sequence, cookie and a valid checksum", "[unit]") {
    auto m = echo_request(false, 0xabcd, 0x0102, kCookie);
    REQUIRE(m.size() == 8 + kPayload);
    CHECK(static_cast<unsigned char>(m[0]) == 8);
    CHECK(static_cast<unsigned char>(m[4]) == 0xab);
    CHECK(static_cast<unsigned char>(m[7]) == 0x02);
    // The sum of the whole message, checksum included, is 0xffff in ones' complement.
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < m.size(); i += 2) {
        sum +=
            static_cast<std::uint32_t>((static_cast<unsigned char>(m[i]) << 8) | static_cast<unsigned char>(m[i + 1]));
    }
    while ((sum >> 16) != 0) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    CHECK(sum == 0xffff);
    CHECK(static_cast<unsigned char>(echo_request(true, 1, 2, kCookie)[0]) == 128);
}

TEST_CASE("icmp_check: replies are read with or without the IP header; others' and forged ones are not ours",
          "[unit]") {
    auto request = echo_request(false, 7, 42, kCookie);
    auto reply = read_reply(false, false, reply_to(request, false), kCookie);
    REQUIRE(reply);
    CHECK(reply->kind == Reply::Kind::Echo);
    CHECK(reply->id == 7);
    CHECK(reply->seq == 42);
    auto raw = read_reply(false, true, ipv4_header(request.size()) + reply_to(request, false), kCookie);
    REQUIRE(raw);
    CHECK(raw->seq == 42);
    auto v6 = read_reply(true, false, reply_to(echo_request(true, 7, 43, kCookie), true), kCookie);
    REQUIRE(v6);
    CHECK(v6->seq == 43);

    CHECK_FALSE(read_reply(false, false, request, kCookie));                       // our own request, seen on loopback
    CHECK_FALSE(read_reply(false, false, reply_to(request, false), kCookie + 1));  // another prober's
    CHECK_FALSE(read_reply(false, false, reply_to(request, false).substr(0, 12), kCookie));  // truncated
    CHECK_FALSE(read_reply(false, true, reply_to(request, false), kCookie));  // no IP header where one must be
    CHECK_FALSE(read_reply(false, false, "", kCookie));
}

TEST_CASE("icmp_check: an error quoting one of our requests says why, in words", "[unit]") {
    auto request = echo_request(false, 7, 9, kCookie);
    std::string unreachable(8, '\0');
    unreachable[0] = 3;  // destination unreachable
    unreachable[1] = 1;  // host unreachable
    unreachable += ipv4_header(request.size()) + request.substr(0, 8);
    auto r = read_reply(false, false, unreachable, kCookie);
    REQUIRE(r);
    CHECK(r->kind == Reply::Kind::Unreachable);
    CHECK(r->seq == 9);
    CHECK(r->why == "host unreachable");
    auto cut = unreachable.substr(0, unreachable.size() - 3);  // the quoted request cut short
    CHECK_FALSE(read_reply(false, false, cut, kCookie));

    auto request6 = echo_request(true, 7, 10, kCookie);
    std::string unreachable6(8, '\0');
    unreachable6[0] = 1;  // destination unreachable
    unreachable6[1] = 3;  // address unreachable
    unreachable6 += std::string(40, '\0') + request6;
    auto r6 = read_reply(true, false, unreachable6, kCookie);
    REQUIRE(r6);
    CHECK(r6->why == "address unreachable");
    CHECK(r6->seq == 10);
}

TEST_CASE("icmp_check: round-trip figures are ping's (population standard deviation)", "[unit]") {
    auto s = rtt_stats({1.0, 2.0, 3.0});
    CHECK(s.min == 1.0);
    CHECK(s.max == 3.0);
    CHECK(s.avg == Approx(2.0));
    CHECK(s.stddev == Approx(0.816496580927726));
    CHECK(rtt_stats({}).avg == 0);
}

TEST_CASE("icmp_check: the fuzzer's seeds and regressions replay cleanly", "[unit]") {
    namespace fs = std::filesystem;
    auto root = vigil::test::source_dir() / "tests" / "fuzz";
    std::size_t replayed = 0;
    for (const char* dir : {"corpus/icmp_reply", "regressions/icmp_reply"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.') {
                continue;
            }
            INFO(e.path());
            auto bytes = vigil::test::read_file(e.path());
            for (bool v6 : {false, true}) {
                for (bool header : {false, true}) {
                    if (auto r = read_reply(v6, header, bytes, kCookie); r && r->kind == Reply::Kind::Unreachable) {
                        CHECK_FALSE(r->why.empty());
                    }
                }
            }
            ++replayed;
        }
    }
    CHECK(replayed >= 4);
}
