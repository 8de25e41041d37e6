// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what a DNS server answers, read for every type dns_check asks for and
// judged by sites that expect records, a pattern or an rcode; and as a dns:// target. Nothing
// may crash; what an answer puts in a record stays bounded and one record per line; every
// failure says why on one line; a target that parses prints back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "answer.hpp"
#include "dns_check_config.hpp"

using namespace vigil::plugins::dns_check;

namespace {
constexpr int kQtypes[] = {1, 28, 5, 15, 2, 16, 6, 257, 33, 12};

Site site(int qtype, std::vector<std::string> answers, const char* pattern) {
    Site s;
    s.target.name = "example.com";
    s.target.qtype = qtype;
    s.answers = std::move(answers);
    if (pattern != nullptr) {
        s.expect_text = pattern;
        s.expect = Pattern(std::make_shared<re2::RE2>(pattern));
    }
    return s;
}

std::string printed(const Target& t) {
    auto server = t.server.find(':') != std::string::npos ? fmt::format("[{}]:{}", t.server, t.port)
                  : t.server.empty()                      ? std::string()
                                                          : fmt::format("{}:{}", t.server, t.port);
    return fmt::format("dns://{}/{}?type={}", server, t.name, t.type);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    for (int qtype : kQtypes) {
        std::string why;
        auto answer = read_answer(data, size, qtype, why);
        if (!answer) {
            if (why.empty() || why.find('\n') != std::string::npos) {
                std::abort();
            }
            continue;
        }
        if (answer->records.size() > kMaxAnswers || answer->rcode.empty()) {
            std::abort();
        }
        for (const auto& r : answer->records) {
            if (r.size() > 4 * (kMaxAnswerText + 3) || r.find('\n') != std::string::npos) {
                std::abort();  // escaped controls may grow a record 4x, never past that
            }
        }
        for (const Site& s :
             {site(qtype, {}, nullptr), site(qtype, {"127.0.0.1"}, nullptr), site(qtype, {}, "(?i)mail|v=spf1")}) {
            auto [failure, detail] = judge(s, *answer);
            if ((failure == Failure::None) != detail.empty() || detail.find('\n') != std::string::npos) {
                std::abort();
            }
        }
    }
    std::string why;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto t = parse_target(text, why)) {
        auto again = parse_target(printed(*t), why);
        if (!again || !(*again == *t)) {
            std::abort();
        }
    } else if (why.empty() || why.find('\n') != std::string::npos) {
        std::abort();
    }
    return 0;
}
