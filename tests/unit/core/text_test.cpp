// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include <catch2/catch.hpp>

#include "support.hpp"
#include "vigil/log.hpp"
#include "vigil/text.hpp"

TEST_CASE("text: labels refuse control characters, bad UTF-8 and excess", "[unit][hostile]") {
    CHECK(vigil::label_problem("shop", 200) == std::nullopt);
    CHECK(vigil::label_problem("café-ü 🚀", 200) == std::nullopt);
    CHECK(vigil::label_problem("shop\r\nX-Injected: yes", 200) == "holds the control character U+000D at byte 4");
    CHECK(vigil::label_problem("a\tb", 200) == "holds the control character U+0009 at byte 1");
    CHECK(vigil::label_problem("a\xc2\x85z", 200) == "holds the control character U+0085 at byte 1");  // NEL
    CHECK(vigil::label_problem("a\x7f", 200) == "holds the control character U+007F at byte 1");
    CHECK(vigil::label_problem("a\xff", 200) == "is not UTF-8 (byte 1)");
    CHECK(vigil::label_problem("\xed\xa0\x80", 200) == "is not UTF-8 (byte 0)");  // a surrogate
    CHECK(vigil::label_problem("", 200) == "is empty");
    CHECK(vigil::label_problem(std::string(201, 'a'), 200) == "is over 200 bytes");
}

TEST_CASE("text: escape_controls keeps one line and shows what it holds", "[unit][hostile]") {
    CHECK(vigil::escape_controls("plain café") == "plain café");
    CHECK(vigil::escape_controls("a\nb\rc\td\x1b[31m") == "a\\nb\\rc\\td\\x1b[31m");
    CHECK(vigil::escape_controls("x\xc2\x85y\xff") == "x\\u0085y\\xff");
}

TEST_CASE("text: url_origin keeps scheme and host, never the path, query or password", "[unit][hostile]") {
    CHECK(vigil::url_origin("https://hooks.slack.com/services/T0/B0/secret-token?x=1") == "https://hooks.slack.com");
    CHECK(vigil::url_origin("http://user:pw@10.0.0.1:8080/hook") == "http://10.0.0.1:8080");
    CHECK(vigil::url_origin("https://[::1]:9093") == "https://[::1]:9093");
    CHECK(vigil::url_origin("not a url") == "(URL)");
}

TEST_CASE("text: a log message cannot forge a line of its own", "[unit][hostile]") {
    vigil::test::TempDir dir;
    auto path = (dir.path() / "stderr.log").string();
    std::fflush(stderr);
    int saved = ::dup(2);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    ::dup2(fd, 2);
    vigil::Logger("text-test").warn("site {} is down", "shop\n2026-01-01T00:00:00.000000Z error [agent] forged");
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fd);
    auto lines = vigil::test::read_lines(path);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("warning [text-test] site shop\\n2026-01-01T00:00:00.000000Z error [agent] forged is down") !=
          std::string::npos);
}
