// SPDX-License-Identifier: Apache-2.0
#include "answer.hpp"

#include "ldns.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <memory>

#include <fmt/core.h>

#include "vigil/text.hpp"

namespace vigil::plugins::dns_check {

namespace {
struct RrFree {
    void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
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
    // An address, the answer most checks get, written without ldns' buffers (as ldns writes it).
    if (const ldns_rdf* rdf = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : nullptr; rdf != nullptr) {
        auto type = ldns_rdf_get_type(rdf);
        const std::uint8_t* b = ldns_rdf_data(rdf);
        if (type == LDNS_RDF_TYPE_A && ldns_rdf_size(rdf) == 4) {
            return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);  // glibc's inet_ntop goes through sprintf
        }
        char text[INET6_ADDRSTRLEN] = {};
        if (type == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(rdf) == 16 &&
            inet_ntop(AF_INET6, b, text, sizeof text) != nullptr) {
            return text;
        }
    }
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
    // ldns reads the header, the question and the answer section one record at a time; the
    // authority and additional sections say nothing a check judges and are not read: building
    // the whole packet (ldns_wire2pkt) cost a quarter of a check's CPU, five records where two matter.
    auto not_dns = [&](ldns_status status) {
        why = fmt::format("the answer ({} bytes) is not a DNS message: {}", size, ldns_get_errorstr_by_id(status));
        return std::nullopt;
    };
    if (size < LDNS_HEADER_SIZE) {
        return not_dns(LDNS_STATUS_WIRE_INCOMPLETE_HEADER);
    }
    if (LDNS_QR_WIRE(data) == 0) {
        why = "the answer is a query (its QR flag is not set)";
        return std::nullopt;
    }
    Answer a;
    a.rcode = rcode_name(LDNS_RCODE_WIRE(data));
    a.truncated = LDNS_TC_WIRE(data) != 0;
    a.authoritative = LDNS_AA_WIRE(data) != 0;
    std::size_t pos = LDNS_HEADER_SIZE;
    auto next = [&](ldns_pkt_section section, ldns_status incomplete) -> std::unique_ptr<ldns_rr, RrFree> {
        ldns_rr* raw = nullptr;
        auto status = ldns_wire2rr(&raw, data, size, &pos, section);
        std::unique_ptr<ldns_rr, RrFree> rr(raw);
        if (status != LDNS_STATUS_OK) {
            not_dns(status == LDNS_STATUS_PACKET_OVERFLOW ? incomplete : status);
            rr.reset();
        }
        return rr;
    };
    for (unsigned i = 0, n = LDNS_QDCOUNT(data); i < n; ++i) {
        if (!next(LDNS_SECTION_QUESTION, LDNS_STATUS_WIRE_INCOMPLETE_QUESTION)) {
            return std::nullopt;
        }
    }
    for (unsigned i = 0, n = LDNS_ANCOUNT(data); i < n; ++i) {
        auto rr = next(LDNS_SECTION_ANSWER, LDNS_STATUS_WIRE_INCOMPLETE_ANSWER);
        if (!rr) {
            return std::nullopt;
        }
        // Only the asked type: an A question's CNAME chain leads to the answer, it is not one.
        if (static_cast<int>(ldns_rr_get_type(rr.get())) != qtype) {
            continue;
        }
        if (a.records.size() == kMaxAnswers) {
            ++a.dropped;
            continue;
        }
        a.records.push_back(presentation(rr.get()));
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
