// SPDX-License-Identifier: Apache-2.0
// The plain-text dialogue before a STARTTLS handshake, for each protocol tls_check speaks (SMTP,
// IMAP, POP3, FTP, XMPP and PostgreSQL's SSLRequest): what to send, what the server must answer,
// and when the TLS handshake may start. Pure: bytes in, the next step out, so the prober, the
// tests and the fuzzer run the same code; every reply is bounded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::plugins::tls_check {

enum class Protocol { Smtp, Imap, Pop3, Ftp, Xmpp, Postgres };
/// The values of the `starttls` option, in Protocol's order after "auto".
extern const char* const kStarttlsNames[];
/// The protocol a port is known for (25, 587: SMTP; 143: IMAP; 110: POP3; 21: FTP; 5222: XMPP;
/// 5432: PostgreSQL), if any.
std::optional<Protocol> protocol_for_port(unsigned port);
std::string_view to_string(Protocol p);

/// Bytes read while waiting for one reply, at most: a server that talks on is cut there.
inline constexpr std::size_t kMaxReply = 16 * 1024;

class Dialogue {
  public:
    struct Step {
        enum class Kind { Read, Send, Tls, Fail };
        Kind kind = Kind::Read;
        std::string data;  // Send: the bytes to write; Fail: why, one line
    };
    /// `host` is the name the client says it wants (XMPP's stream `to`, SMTP's EHLO is ours).
    Dialogue(Protocol protocol, std::string host);
    /// What to write once connected, before anything is read (XMPP's stream header,
    /// PostgreSQL's SSLRequest); empty when the server speaks first.
    std::string opening() const;
    /// The bytes the server sent since the last step that was not Read; the next step. After
    /// Send the caller writes its data and reads again from an empty buffer.
    Step on_read(std::string_view received, bool closed);

  private:
    Protocol protocol_;
    std::string host_;
    int stage_ = 0;
};

}  // namespace vigil::plugins::tls_check
