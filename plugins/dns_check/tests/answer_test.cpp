// SPDX-License-Identifier: Apache-2.0
// Reading an answer's wire form (answers made with ldns here, as a server would send them) and
// what a site makes of it; the fuzzer's seeds and kept crash inputs replay cleanly.
#include <catch2/catch.hpp>

#include "ldns.hpp"

#include <filesystem>

#include "answer.hpp"
#include "support.hpp"

using namespace vigil::plugins::dns_check;

namespace {
// The wire form of an answer to `name` `type` holding `records` (zone-file lines).
std::string wire(const char* name, ldns_rr_type type, const std::vector<std::string>& records,
                 ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR, bool qr = true) {
    ldns_pkt* p = nullptr;
    REQUIRE(ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK);
    ldns_pkt_set_qr(p, qr);
    ldns_pkt_set_rcode(p, static_cast<std::uint8_t>(rcode));
    for (const auto& line : records) {
        ldns_rr* rr = nullptr;
        REQUIRE(ldns_rr_new_frm_str(&rr, line.c_str(), 300, nullptr, nullptr) == LDNS_STATUS_OK);
        ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
    }
    std::uint8_t* out = nullptr;
    std::size_t size = 0;
    REQUIRE(ldns_pkt2wire(&out, p, &size) == LDNS_STATUS_OK);
    std::string bytes(reinterpret_cast<char*>(out), size);
    free(out);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
    ldns_pkt_free(p);
    return bytes;
}

std::optional<Answer> read(const std::string& bytes, int qtype, std::string& why) {
    return read_answer(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), qtype, why);
}

Site asking(const char* type, int qtype) {
    Site s;
    s.target.name = "example.com";
    s.target.type = type;
    s.target.qtype = qtype;
    return s;
}
}  // namespace

TEST_CASE("dns_check: an answer's records of the asked type, in presentation form, as a set", "[unit]") {
    std::string why;
    auto a = read(wire("www.example.com", LDNS_RR_TYPE_A,
                       {"www.example.com. CNAME web.example.com.", "web.example.com. A 192.0.2.2",
                        "web.example.com. A 192.0.2.1", "web.example.com. A 192.0.2.2"}),
                  1, why);
    REQUIRE(a);
    CHECK(a->rcode == "NOERROR");
    CHECK(a->records == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});  // no CNAME, sorted, once
    CHECK(joined(a->records) == "192.0.2.1\n192.0.2.2");

    auto mx = read(wire("example.com", LDNS_RR_TYPE_MX, {"example.com. MX 10 mail.example.com."}), 15, why);
    CHECK(mx->records == std::vector<std::string>{"10 mail.example.com."});
    auto txt = read(wire("example.com", LDNS_RR_TYPE_TXT, {"example.com. TXT \"v=spf1 -all\" \"two\""}), 16, why);
    CHECK(txt->records == std::vector<std::string>{"\"v=spf1 -all\" \"two\""});
    auto soa = read(wire("example.com", LDNS_RR_TYPE_SOA, {"example.com. SOA ns. host. 7 3600 600 86400 300"}), 6, why);
    CHECK(soa->records == std::vector<std::string>{"ns. host. 7 3600 600 86400 300"});
    auto srv =
        read(wire("_x._tcp.example.com", LDNS_RR_TYPE_SRV, {"_x._tcp.example.com. SRV 1 2 3 t.example."}), 33, why);
    CHECK(srv->records == std::vector<std::string>{"1 2 3 t.example."});
}

TEST_CASE("dns_check: what an answer can put in a record is bounded", "[unit]") {
    std::vector<std::string> many;
    for (int i = 0; i < 150; ++i) {
        many.push_back("x.example. A 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    }
    std::string why;
    auto a = read(wire("x.example", LDNS_RR_TYPE_A, many), 1, why);
    REQUIRE(a);
    CHECK(a->records.size() == kMaxAnswers);
    CHECK(a->dropped == 50);
    auto long_txt = read(wire("x.example", LDNS_RR_TYPE_TXT,
                              {"x.example. TXT \"" + std::string(250, 'a') + "\" \"" + std::string(250, 'b') + "\" \"" +
                               std::string(250, 'c') + "\""}),
                         16, why);
    REQUIRE(long_txt);
    CHECK(long_txt->records[0].size() == kMaxAnswerText + 3);
    CHECK(long_txt->records[0].substr(kMaxAnswerText) == "...");
}

TEST_CASE("dns_check: bytes that are no DNS answer say so", "[unit]") {
    std::string why;
    CHECK_FALSE(read("\x12\x34\x81\x80 not dns", 1, why));
    CHECK(why.rfind("the answer (12 bytes) is not a DNS message: ", 0) == 0);
    CHECK_FALSE(read(wire("x.example", LDNS_RR_TYPE_A, {}, LDNS_RCODE_NOERROR, false), 1, why));
    CHECK(why == "the answer is a query (its QR flag is not set)");
    auto nx = read(wire("x.example", LDNS_RR_TYPE_A, {}, LDNS_RCODE_NXDOMAIN), 1, why);
    CHECK(nx->rcode == "NXDOMAIN");
    auto odd = read(wire("x.example", LDNS_RR_TYPE_A, {}, static_cast<ldns_pkt_rcode>(12)), 1, why);
    CHECK(odd->rcode == "RCODE12");
}

TEST_CASE("dns_check: only the header, question and answer section are read", "[unit]") {
    // An authority record announced and cut off: ldns_wire2pkt refuses the packet, the answer
    // section before it still says everything a check judges.
    auto bytes = wire("www.example.com", LDNS_RR_TYPE_A, {"www.example.com. A 192.0.2.1"});
    bytes[9] = 1;  // NSCOUNT
    std::string why;
    auto a = read(bytes, 1, why);
    REQUIRE(a);
    CHECK(a->records == std::vector<std::string>{"192.0.2.1"});
    // A cut in the answer section is still no DNS message.
    auto cut = wire("www.example.com", LDNS_RR_TYPE_A, {"www.example.com. A 192.0.2.1"});
    cut.resize(cut.size() - 2);
    CHECK_FALSE(read(cut, 1, why));
    CHECK(why.find("is not a DNS message") != std::string::npos);
    auto v6 = read(wire("x.example", LDNS_RR_TYPE_AAAA, {"x.example. AAAA 2001:db8::1"}), 28, why);
    CHECK(v6->records == std::vector<std::string>{"2001:db8::1"});
}

TEST_CASE("dns_check: a site judges the rcode, then the set, then the pattern", "[unit]") {
    Answer two{"NOERROR", {"192.0.2.1", "192.0.2.2"}, 0, false, false};
    auto s = asking("A", 1);
    CHECK(judge(s, two).first == Failure::None);
    s.answers = {"192.0.2.1"};
    CHECK(judge(s, two) ==
          std::pair{Failure::Answer, std::string("example.com A answers 192.0.2.1, 192.0.2.2; expected 192.0.2.1")});
    s.answers = {"192.0.2.1", "192.0.2.2"};
    CHECK(judge(s, two).first == Failure::None);
    s.expect_text = "^192\\.0\\.2\\.9$";
    s.expect = Pattern(std::make_shared<re2::RE2>("(?m)^192\\.0\\.2\\.9$"));
    CHECK(judge(s, two).first == Failure::Expect);

    Answer none{"NOERROR", {}, 0, false, false};
    auto e = asking("AAAA", 28);
    CHECK(judge(e, none) ==
          std::pair{Failure::Answer, std::string("no AAAA record for example.com (NOERROR with "
                                                 "an empty answer; allow_empty: true accepts that)")});
    e.allow_empty = true;
    CHECK(judge(e, none).first == Failure::None);

    Answer nx{"NXDOMAIN", {}, 0, false, false};
    CHECK(judge(e, nx) == std::pair{Failure::Rcode, std::string("the answer's rcode is NXDOMAIN, expected NOERROR")});
    e.rcode = "NXDOMAIN";
    CHECK(judge(e, nx).first == Failure::None);
}

TEST_CASE("dns_check: the fuzzer's seeds and regressions replay cleanly", "[unit]") {
    namespace fs = std::filesystem;
    auto root = vigil::test::source_dir() / "tests" / "fuzz";
    auto site = asking("A", 1);
    std::size_t replayed = 0;
    for (const char* dir : {"corpus/dns_answer", "regressions/dns_answer"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.') {
                continue;
            }
            INFO(e.path());
            auto bytes = vigil::test::read_file(e.path());
            std::string why;
            if (auto a = read(bytes, 1, why)) {
                CHECK(a->records.size() <= kMaxAnswers);
                CHECK(judge(site, *a).second.find('\n') == std::string::npos);
            } else {
                CHECK(why.find('\n') == std::string::npos);
            }
            ++replayed;
        }
    }
    CHECK(replayed >= 5);
}
