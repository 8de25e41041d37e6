// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what a server says in a STARTTLS dialogue, for every protocol, fed in
// pieces as they would arrive (and as a reply after each step), and as a tls:// target. Nothing
// may crash; a dialogue always ends once the server closes; a refusal says why on one line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "starttls.hpp"
#include "tls_check_config.hpp"

using namespace vigil::plugins::tls_check;
using Kind = Dialogue::Step::Kind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    for (auto p : {Protocol::Smtp, Protocol::Imap, Protocol::Pop3, Protocol::Ftp, Protocol::Xmpp, Protocol::Postgres}) {
        Dialogue d(p, "h");
        std::string read;
        int steps = 0;
        for (std::size_t at = 0; at <= bytes.size(); at += 5) {
            bool closed = at + 5 > bytes.size();
            read.append(bytes.substr(at, 5));
            auto step = d.on_read(read, closed);
            if (step.kind == Kind::Fail && (step.data.empty() || step.data.find('\n') != std::string::npos)) {
                std::abort();
            }
            if (step.kind == Kind::Read && closed) {
                std::abort();  // a closed connection must end the dialogue
            }
            if (step.kind == Kind::Fail || step.kind == Kind::Tls || ++steps > 10) {
                break;
            }
            if (step.kind == Kind::Send) {
                read.clear();  // the next reply starts from here
            }
        }
    }
    std::string why;
    if (!parse_target(bytes, why) && (why.empty() || why.find('\n') != std::string::npos)) {
        std::abort();
    }
    return 0;
}
