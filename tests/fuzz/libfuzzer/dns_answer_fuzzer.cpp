// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what a DNS server answers, read for every type dns_check asks for and
// judged by sites that expect records, a pattern or an rcode; and as a dns:// target. Nothing
// may crash; what an answer puts in a record stays bounded and one record per line; every
// failure says why on one line; a target that parses prints back to itself. read_answer reads
// only the sections it needs and writes addresses itself: wherever ldns reads the whole packet,
// the answer must be what the whole packet and ldns' own presentation of an address say.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "answer.hpp"
#include "dns_check_config.hpp"
#include "ldns.hpp"

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
// A and AAAA answers as the whole packet says them, or nullopt when ldns cannot read it all.
std::optional<Answer> reference(const std::uint8_t* data, std::size_t size, int qtype) {
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK || !ldns_pkt_qr(pkt)) {
        ldns_pkt_free(pkt);
        return std::nullopt;
    }
    Answer a;
    auto rcode = static_cast<unsigned>(ldns_pkt_get_rcode(pkt));
    a.rcode = fmt::format("RCODE{}", rcode);
    for (unsigned i = 0; kRcodes[i] != nullptr; ++i) {
        if (i == rcode) {
            a.rcode = kRcodes[i];
        }
    }
    const ldns_rr_list* records = ldns_pkt_answer(pkt);
    for (std::size_t i = 0; records != nullptr && i < ldns_rr_list_rr_count(records); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(records, i);
        if (static_cast<int>(ldns_rr_get_type(rr)) != qtype) {
            continue;
        }
        std::string fields;
        for (std::size_t f = 0; f < ldns_rr_rd_count(rr); ++f) {
            char* text = ldns_rdf2str(ldns_rr_rdf(rr, f));
            fields += (f == 0 ? "" : " ") + std::string(text != nullptr ? text : "?");
            free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
        }
        a.records.push_back(fields);
    }
    std::sort(a.records.begin(), a.records.end());
    a.records.erase(std::unique(a.records.begin(), a.records.end()), a.records.end());
    ldns_pkt_free(pkt);
    return a;
}

bool same_as_reference(const std::uint8_t* data, std::size_t size, int qtype, const std::optional<Answer>& answer) {
    auto ref = reference(data, size, qtype);
    if (!ref) {
        return true;  // ldns refuses the whole packet: read_answer may still read its first sections
    }
    if (!answer) {
        return false;  // what ldns reads whole, read_answer reads
    }
    if (answer->dropped > 0) {
        return true;  // past kMaxAnswers the kept set depends on the order
    }
    return answer->records == ref->records && answer->rcode == ref->rcode;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    for (int qtype : kQtypes) {
        std::string why;
        auto answer = read_answer(data, size, qtype, why);
        if ((qtype == 1 || qtype == 28) && !same_as_reference(data, size, qtype, answer)) {
            std::abort();
        }
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
