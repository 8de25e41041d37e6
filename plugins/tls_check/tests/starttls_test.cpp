// SPDX-License-Identifier: Apache-2.0
// The STARTTLS dialogues, step by step as a server answers in pieces; each refusal says why on
// one line; a server that talks on is cut at kMaxReply; the fuzzer's seeds replay cleanly.
#include <catch2/catch.hpp>

#include <filesystem>

#include "starttls.hpp"
#include "support.hpp"

using namespace vigil::plugins::tls_check;
using Kind = Dialogue::Step::Kind;

TEST_CASE("starttls: SMTP waits for the whole multi-line reply, then EHLO, STARTTLS, the handshake", "[unit]") {
    Dialogue d(Protocol::Smtp, "mail.example.com");
    CHECK(d.opening().empty());
    CHECK(d.on_read("220-mail ESMTP\r\n", false).kind == Kind::Read);  // not the last line yet
    auto ehlo = d.on_read("220-mail ESMTP\r\n220 ready\r\n", false);
    CHECK(ehlo.kind == Kind::Send);
    CHECK(ehlo.data == "EHLO vigil.invalid\r\n");
    CHECK(d.on_read("250-mail\r\n250-STARTTLS\r\n", false).kind == Kind::Read);
    auto starttls = d.on_read("250-mail\r\n250-STARTTLS\r\n250 SIZE 1000\r\n", false);
    CHECK(starttls.data == "STARTTLS\r\n");
    CHECK(d.on_read("220 go ahead\r\n", false).kind == Kind::Tls);

    Dialogue no(Protocol::Smtp, "h");
    no.on_read("220 hi\r\n", false);
    auto refused = no.on_read("250-mail\r\n250 SIZE 1\r\n", false);
    CHECK(refused.kind == Kind::Fail);
    CHECK(refused.data == "the server does not offer STARTTLS (not among its EHLO extensions)");
    Dialogue busy(Protocol::Smtp, "h");
    CHECK(busy.on_read("554 no service\r\n", false).data == "the server greeted with \"554 no service\", not 220");
}

TEST_CASE("starttls: IMAP, POP3, FTP, XMPP and PostgreSQL", "[unit]") {
    Dialogue imap(Protocol::Imap, "h");
    CHECK(imap.on_read("* OK ready\r\n", false).data == "a1 STARTTLS\r\n");
    CHECK(imap.on_read("* BYE maybe not\r\n", false).kind == Kind::Read);  // untagged: not the answer
    CHECK(imap.on_read("* BYE maybe not\r\na1 OK go\r\n", false).kind == Kind::Tls);
    Dialogue pop(Protocol::Pop3, "h");
    CHECK(pop.on_read("+OK hi\r\n", false).data == "STLS\r\n");
    CHECK(pop.on_read("-ERR no\r\n", false).data == "STLS was answered \"-ERR no\"");
    Dialogue ftp(Protocol::Ftp, "h");
    CHECK(ftp.on_read("220 ftp\r\n", false).data == "AUTH TLS\r\n");
    CHECK(ftp.on_read("234 ok\r\n", false).kind == Kind::Tls);
    Dialogue xmpp(Protocol::Xmpp, "chat.example.com");
    CHECK(xmpp.opening().find("to='chat.example.com'") != std::string::npos);
    CHECK(xmpp.on_read("<stream:stream><stream:features><starttls/></stream:features>", false).kind == Kind::Send);
    CHECK(xmpp.on_read("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", false).kind == Kind::Tls);
    Dialogue pg(Protocol::Postgres, "h");
    CHECK(pg.opening() == std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
    CHECK(pg.on_read("S", false).kind == Kind::Tls);
    Dialogue injected(Protocol::Postgres, "h");
    CHECK(injected.on_read("S\x16\x03", false).kind == Kind::Fail);  // bytes before our handshake
}

TEST_CASE("starttls: a closed connection or an endless reply ends the dialogue with why", "[unit]") {
    Dialogue d(Protocol::Smtp, "h");
    CHECK(d.on_read("", true).data == "the server closed the connection while we waited for a 220 greeting");
    Dialogue chatty(Protocol::Smtp, "h");
    auto cut = chatty.on_read(std::string(kMaxReply, 'x'), false);
    CHECK(cut.kind == Kind::Fail);
    CHECK(cut.data.rfind("no a 220 greeting in the first 16384 bytes", 0) == 0);
    CHECK(cut.data.find('\n') == std::string::npos);
}

TEST_CASE("starttls: the fuzzer's seeds and regressions replay cleanly", "[unit]") {
    namespace fs = std::filesystem;
    auto root = vigil::test::source_dir() / "tests" / "fuzz";
    std::size_t replayed = 0;
    for (const char* dir : {"corpus/starttls", "regressions/starttls"}) {
        for (const auto& e : fs::directory_iterator(root / dir)) {
            if (e.path().filename().string()[0] == '.') {
                continue;
            }
            auto bytes = vigil::test::read_file(e.path());
            for (auto p :
                 {Protocol::Smtp, Protocol::Imap, Protocol::Pop3, Protocol::Ftp, Protocol::Xmpp, Protocol::Postgres}) {
                Dialogue d(p, "h");
                auto step = d.on_read(bytes, true);
                CHECK(step.kind != Kind::Read);  // a closed connection always ends the dialogue
            }
            ++replayed;
        }
    }
    CHECK(replayed >= 4);
}
