// SPDX-License-Identifier: Apache-2.0
// What the bytes a server sent say of a check: a match, no match any more, or read on; and the
// fuzzer's seeds and kept crash inputs replay cleanly.
#include <catch2/catch.hpp>

#include <filesystem>

#include "prober.hpp"
#include "support.hpp"

using namespace vigil::plugins::tcp_check;

namespace {
Site expecting(const char* pattern, std::uint64_t max_read) {
    Site s;
    s.expect_text = pattern;
    s.expect = Pattern(std::make_shared<re2::RE2>(pattern));
    s.max_read = max_read;
    return s;
}
}  // namespace

TEST_CASE("tcp_check: the bytes read are judged as they arrive", "[unit]") {
    auto smtp = expecting("^220 ", 16);
    CHECK_FALSE(judge_read(smtp, "22", false));  // read on
    CHECK(judge_read(smtp, "220 ready", false)->first == Failure::None);
    auto full = judge_read(smtp, "554 no thanks, go", false);
    REQUIRE(full);
    CHECK(full->first == Failure::Expect);
    CHECK(full->second == "no match for ^220  in the first 17 bytes read: \"554 no thanks, go\"");
    auto closed = judge_read(smtp, "554\r\n\x01", true);
    REQUIRE(closed);
    CHECK(closed->second ==
          "the server closed the connection after 6 bytes with no match for ^220 : \"554\\r\\n\\x01\"");
    CHECK(judge_read(smtp, "", true)->second ==
          "the server closed the connection without sending anything (expected ^220 )");
}

TEST_CASE("tcp_check: the tcp_answer fuzzer's corpus and kept crash inputs replay cleanly", "[unit]") {
    namespace fs = std::filesystem;
    auto root = vigil::test::source_dir() / "tests" / "fuzz";
    auto pong = expecting("\\+PONG\\r?\\n", 4096);
    std::size_t replayed = 0;
    for (const char* dir : {"corpus/tcp_answer", "regressions/tcp_answer"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.') {
                continue;
            }
            INFO(e.path());
            auto bytes = vigil::test::read_file(e.path());
            auto verdict = judge_read(pong, bytes, true);
            REQUIRE(verdict);
            CHECK(verdict->second.find('\n') == std::string::npos);
            std::string why;
            if (!parse_target(bytes, why)) {
                CHECK_FALSE(why.empty());
            }
            ++replayed;
        }
    }
    CHECK(replayed >= 5);
}
