// SPDX-License-Identifier: Apache-2.0
#include "answer.hpp"

#include "ldns.hpp"

#include <algorithm>
#include <memory>

#include <fmt/core.h>

#include "vigil/text.hpp"

namespace vigil::plugins::dns_check {

namespace {
struct PacketFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct CharFree {
    void operator()(char* s) const { free(s); }  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
};

std::string rcode_name(unsigned rcode) {
    // kRcodes is in wire order: NOERROR is 0, NOTZONE 10.
    for (unsigned i = 0; kRcodes[i] != nullptr; ++i) {
        if (i == rcode) {
            return kRcodes[i];
        }
    }
    return fmt::format("RCODE{}", rcode);
}

// One record's data as zone files and dig write it: its fields, space-separated.
std::string presentation(const ldns_rr* rr) {
    std::string out;
    for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        std::unique_ptr<char, CharFree> field(ldns_rdf2str(ldns_rr_rdf(rr, i)));
        if (!out.empty()) {
            out += ' ';
        }
        out += field ? field.get() : "?";
        if (out.size() > kMaxAnswerText) {
            out.resize(kMaxAnswerText);
            out += "...";
            break;
        }
    }
    return escape_controls(out);
}
}  // namespace

std::string_view to_string(Failure f) {
    switch (f) {
        case Failure::None: return "ok";
        case Failure::Timeout: return "timeout";
        case Failure::Connect: return "connect";
        case Failure::Malformed: return "malformed";
        case Failure::Rcode: return "rcode";
        case Failure::Answer: return "answer";
        case Failure::Expect: return "expect";
    }
    return "error";
}

std::optional<Answer> read_answer(const std::uint8_t* data, std::size_t size, int qtype, std::string& why) {
    ldns_pkt* raw = nullptr;
    auto status = ldns_wire2pkt(&raw, data, size);
    std::unique_ptr<ldns_pkt, PacketFree> pkt(raw);
    if (status != LDNS_STATUS_OK || !pkt) {
        why = fmt::format("the answer ({} bytes) is not a DNS message: {}", size, ldns_get_errorstr_by_id(status));
        return std::nullopt;
    }
    if (!ldns_pkt_qr(pkt.get())) {
        why = "the answer is a query (its QR flag is not set)";
        return std::nullopt;
    }
    Answer a;
    a.rcode = rcode_name(static_cast<unsigned>(ldns_pkt_get_rcode(pkt.get())));
    a.truncated = ldns_pkt_tc(pkt.get());
    a.authoritative = ldns_pkt_aa(pkt.get());
    const ldns_rr_list* records = ldns_pkt_answer(pkt.get());
    std::size_t n = records == nullptr ? 0 : ldns_rr_list_rr_count(records);
    for (std::size_t i = 0; i < n; ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(records, i);
        // Only the asked type: an A question's CNAME chain leads to the answer, it is not one.
        if (static_cast<int>(ldns_rr_get_type(rr)) != qtype) {
            continue;
        }
        if (a.records.size() == kMaxAnswers) {
            ++a.dropped;
            continue;
        }
        a.records.push_back(presentation(rr));
    }
    std::sort(a.records.begin(), a.records.end());
    a.records.erase(std::unique(a.records.begin(), a.records.end()), a.records.end());
    return a;
}

std::string joined(const std::vector<std::string>& records) {
    std::string out;
    for (const auto& r : records) {
        if (!out.empty()) {
            out += '\n';
        }
        out += r;
    }
    return out;
}

std::pair<Failure, std::string> judge(const Site& site, const Answer& answer) {
    auto listed = [](const std::vector<std::string>& records) {
        if (records.empty()) {
            return std::string("none");
        }
        std::string out;
        for (const auto& r : records) {
            out += (out.empty() ? "" : ", ") + r;
            if (out.size() > 200) {
                return out + ", ...";
            }
        }
        return out;
    };
    if (answer.rcode != site.rcode) {
        return {Failure::Rcode, fmt::format("the answer's rcode is {}, expected {}", answer.rcode, site.rcode)};
    }
    if (site.rcode != "NOERROR") {
        return {Failure::None, ""};
    }
    if (!site.answers.empty() && answer.records != site.answers) {
        return {Failure::Answer, fmt::format("{} {} answers {}; expected {}", site.target.name, site.target.type,
                                             listed(answer.records), listed(site.answers))};
    }
    if (site.answers.empty() && answer.records.empty() && !site.allow_empty) {
        return {Failure::Answer, fmt::format("no {} record for {} (NOERROR with an empty answer; allow_empty: true "
                                             "accepts that)",
                                             site.target.type, site.target.name)};
    }
    if (site.expect && !re2::RE2::PartialMatch(joined(answer.records), *site.expect)) {
        return {Failure::Expect, fmt::format("no match for {} in {} {} answers {}", *site.expect_text, site.target.name,
                                             site.target.type, listed(answer.records))};
    }
    return {Failure::None, ""};
}

}  // namespace vigil::plugins::dns_check
