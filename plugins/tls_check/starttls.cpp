// SPDX-License-Identifier: Apache-2.0
#include "starttls.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "vigil/text.hpp"

namespace vigil::plugins::tls_check {

const char* const kStarttlsNames[] = {"auto", "smtp", "imap", "pop3", "ftp", "xmpp", "postgres", nullptr};

namespace {
using Step = Dialogue::Step;
using Kind = Step::Kind;
constexpr std::size_t kShown = 80;

Step fail(std::string why) { return {Kind::Fail, std::move(why)}; }
Step send(std::string data) { return {Kind::Send, std::move(data)}; }
Step read_on() { return {Kind::Read, {}}; }

std::string shown(std::string_view bytes) {
    auto line = bytes.substr(0, std::min(bytes.find_first_of("\r\n"), kShown));
    return escape_controls(line);
}

bool contains_nocase(std::string_view text, std::string_view what) {
    auto it = std::search(text.begin(), text.end(), what.begin(), what.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != text.end();
}

// The complete lines of `bytes` (each ended by \n), without their line ends.
template <class Each>
bool each_line(std::string_view bytes, Each each) {
    std::size_t at = 0;
    while (true) {
        auto end = bytes.find('\n', at);
        if (end == std::string_view::npos) {
            return false;
        }
        auto line = bytes.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (each(line)) {
            return true;
        }
        at = end + 1;
    }
}

// SMTP's and FTP's replies: lines "250-..." then a last "250 ..."; the code of that last line,
// and whether all lines together mention `word`, once it has come.
struct CodeReply {
    int code = 0;
    bool mentions = false;
};
std::optional<CodeReply> code_reply(std::string_view bytes, std::string_view word) {
    CodeReply r;
    bool done = each_line(bytes, [&](std::string_view line) {
        if (!word.empty() && contains_nocase(line, word)) {
            r.mentions = true;
        }
        bool digits = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                      std::isdigit(static_cast<unsigned char>(line[1])) &&
                      std::isdigit(static_cast<unsigned char>(line[2]));
        if (digits && (line.size() == 3 || line[3] == ' ')) {
            r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            return true;
        }
        return false;
    });
    if (!done) {
        return std::nullopt;
    }
    return r;
}

// The first line that starts with one of `prefixes` (case-insensitive), or nullopt if none came
// yet; lines starting otherwise (IMAP's untagged "* ..." among them) are passed over.
std::optional<std::string> line_starting(std::string_view bytes, std::initializer_list<std::string_view> prefixes) {
    std::optional<std::string> found;
    each_line(bytes, [&](std::string_view line) {
        for (auto p : prefixes) {
            if (line.size() >= p.size() && contains_nocase(line.substr(0, p.size()), p)) {
                found = std::string(p);
                return true;
            }
        }
        return false;
    });
    return found;
}
}  // namespace

std::optional<Protocol> protocol_for_port(unsigned port) {
    switch (port) {
        case 25:
        case 587: return Protocol::Smtp;
        case 143: return Protocol::Imap;
        case 110: return Protocol::Pop3;
        case 21: return Protocol::Ftp;
        case 5222: return Protocol::Xmpp;
        case 5432: return Protocol::Postgres;
        default: return std::nullopt;
    }
}

std::string_view to_string(Protocol p) { return kStarttlsNames[static_cast<int>(p) + 1]; }

Dialogue::Dialogue(Protocol protocol, std::string host) : protocol_(protocol), host_(std::move(host)) {}

std::string Dialogue::opening() const {
    switch (protocol_) {
        case Protocol::Xmpp:
            return fmt::format(
                "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
                host_);
        case Protocol::Postgres: return std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);  // SSLRequest
        default: return {};
    }
}

Dialogue::Step Dialogue::on_read(std::string_view received, bool closed) {
    auto waiting = [&](const char* what) {
        if (received.size() >= kMaxReply) {
            return fail(fmt::format("no {} in the first {} bytes: \"{}\"", what, received.size(), shown(received)));
        }
        if (closed) {
            return fail(received.empty() ? fmt::format("the server closed the connection while we waited for {}", what)
                                         : fmt::format("the server closed the connection after \"{}\" (waiting for {})",
                                                       shown(received), what));
        }
        return read_on();
    };
    switch (protocol_) {
        case Protocol::Smtp:
        case Protocol::Ftp: {
            bool smtp = protocol_ == Protocol::Smtp;
            const char* expected = stage_ == 0 ? "a 220 greeting"
                                   : smtp      ? (stage_ == 1 ? "the answer to EHLO" : "the answer to STARTTLS")
                                               : "the answer to AUTH TLS";
            auto reply = code_reply(received, smtp && stage_ == 1 ? "STARTTLS" : "");
            if (!reply) {
                return waiting(expected);
            }
            if (stage_ == 0) {
                if (reply->code != 220) {
                    return fail(fmt::format("the server greeted with \"{}\", not 220", shown(received)));
                }
                ++stage_;
                return send(smtp ? "EHLO vigil.invalid\r\n" : "AUTH TLS\r\n");
            }
            if (smtp && stage_ == 1) {
                if (reply->code != 250) {
                    return fail(fmt::format("EHLO was answered \"{}\"", shown(received)));
                }
                if (!reply->mentions) {
                    return fail("the server does not offer STARTTLS (not among its EHLO extensions)");
                }
                ++stage_;
                return send("STARTTLS\r\n");
            }
            int want = smtp ? 220 : 234;
            if (reply->code != want) {
                return fail(fmt::format("{} was answered \"{}\"", smtp ? "STARTTLS" : "AUTH TLS", shown(received)));
            }
            return {Kind::Tls, {}};
        }
        case Protocol::Imap: {
            if (stage_ == 0) {
                auto line = line_starting(received, {"* OK", "* PREAUTH", "* BYE"});
                if (!line) {
                    return waiting("an IMAP greeting");
                }
                if (*line == "* BYE") {
                    return fail(fmt::format("the server said goodbye: \"{}\"", shown(received)));
                }
                ++stage_;
                return send("a1 STARTTLS\r\n");
            }
            auto line = line_starting(received, {"a1 OK", "a1 NO", "a1 BAD"});
            if (!line) {
                return waiting("the answer to STARTTLS");
            }
            if (*line != "a1 OK") {
                return fail(fmt::format("STARTTLS was refused: \"{}\"", shown(received)));
            }
            return {Kind::Tls, {}};
        }
        case Protocol::Pop3: {
            auto line = line_starting(received, {"+OK", "-ERR"});
            if (!line) {
                return waiting(stage_ == 0 ? "a POP3 greeting" : "the answer to STLS");
            }
            if (*line != "+OK") {
                return fail(fmt::format("{} \"{}\"", stage_ == 0 ? "the server greeted with" : "STLS was answered",
                                        shown(received)));
            }
            if (stage_ == 0) {
                ++stage_;
                return send("STLS\r\n");
            }
            return {Kind::Tls, {}};
        }
        case Protocol::Xmpp: {
            if (stage_ == 0) {
                if (received.find("</stream:features>") == std::string_view::npos) {
                    if (received.find("<stream:error") != std::string_view::npos) {
                        return fail(fmt::format("the server sent a stream error: \"{}\"", shown(received)));
                    }
                    return waiting("the stream's features");
                }
                if (received.find("<starttls") == std::string_view::npos) {
                    return fail("the server does not offer STARTTLS (not among its stream features)");
                }
                ++stage_;
                return send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            }
            if (received.find("<proceed") != std::string_view::npos) {
                return {Kind::Tls, {}};
            }
            if (received.find("<failure") != std::string_view::npos) {
                return fail("the server refused STARTTLS (<failure/>)");
            }
            return waiting("<proceed/>");
        }
        case Protocol::Postgres: {
            if (received.empty()) {
                return waiting("the answer to SSLRequest");
            }
            if (received[0] == 'S') {
                if (received.size() > 1) {
                    // Bytes after 'S' before our handshake: a man in the middle's (CVE-2021-23222).
                    return fail("the server sent bytes after accepting SSLRequest, before the handshake");
                }
                return {Kind::Tls, {}};
            }
            if (received[0] == 'N') {
                return fail("the server does not do TLS (it answered N to SSLRequest)");
            }
            return fail(fmt::format("SSLRequest was answered \"{}\", not S or N", shown(received)));
        }
    }
    return fail("unknown protocol");
}

}  // namespace vigil::plugins::tls_check
