// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what a TCP server sends (a banner, an answer), judged against a few
// expect patterns as it arrives in pieces, and as a tcp:// target. Nothing may crash; every
// verdict says why, on one line; a target that parses prints back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "prober.hpp"
#include "tcp_check_config.hpp"

using namespace vigil::plugins::tcp_check;

namespace {
Site site(const char* pattern, std::uint64_t max_read) {
    Site s;
    s.expect_text = pattern;
    s.expect = Pattern(std::make_shared<re2::RE2>(pattern));
    s.max_read = max_read;
    return s;
}

void judge(const Site& s, std::string_view bytes) {
    // As it would arrive: in pieces of 7 bytes, up to max_read, then the server closes.
    std::string read;
    for (std::size_t at = 0; at < bytes.size() && read.size() < s.max_read; at += 7) {
        read.append(bytes.substr(at, std::min<std::size_t>({7, bytes.size() - at, s.max_read - read.size()})));
        if (auto v = judge_read(s, read, false)) {
            if (v->first == Failure::Expect && (v->second.empty() || v->second.find('\n') != std::string::npos)) {
                std::abort();
            }
            return;
        }
    }
    auto last = judge_read(s, read, true);
    if (!last || (last->first != Failure::None && last->second.find('\n') != std::string::npos)) {
        std::abort();  // a closed connection always has a verdict, on one line
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    static const Site smtp = site("^220 ", 64);
    static const Site pong = site("\\+PONG\\r?\\n", 4096);
    static const Site ssh = site("(?m)^SSH-2\\.0-[^\\r\\n]+", 16);
    for (const Site* s : {&smtp, &pong, &ssh}) {
        judge(*s, bytes);
    }
    std::string why;
    if (auto t = parse_target(bytes, why)) {
        auto again =
            parse_target(t->host.find(':') != std::string::npos ? fmt::format("tcp://[{}]:{}", t->host, t->port)
                                                                : fmt::format("tcp://{}:{}", t->host, t->port),
                         why);
        if (!again || !(*again == *t) || t->port == 0) {
            std::abort();
        }
    } else if (why.empty() || why.find('\n') != std::string::npos) {
        std::abort();
    }
    return 0;
}
