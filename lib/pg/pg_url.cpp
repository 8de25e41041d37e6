// SPDX-License-Identifier: Apache-2.0
#include "pg_url.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "vigil/redact.hpp"

namespace vigil::pg {

std::string quote_identifier(const std::string& name) {
    std::string out;
    std::size_t start = 0;
    while (true) {
        auto dot = name.find('.', start);
        auto part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!out.empty()) {
            out += '.';
        }
        out += '"';
        for (char c : part) {
            out += c;
            if (c == '"') {
                out += '"';
            }
        }
        out += '"';
        if (dot == std::string::npos) {
            return out;
        }
        start = dot + 1;
    }
}

namespace {

bool loopback(const std::string& host) {
    // Empty or a path: a Unix socket. The traffic never leaves the machine, so TLS adds nothing.
    return host.empty() || host[0] == '/' || host[0] == '@' || host == "localhost" || host == "::1" ||
           host.rfind("127.", 0) == 0;
}

// libpq's default, sslmode=prefer, takes TLS if offered and falls back to clear text otherwise,
// checking no certificate either way; only verify-full resists a machine in the middle.
void warn_weak_tls(const PQconninfoOption* options, const ConfigNode& node, Diagnostics& diags) {
    std::string mode, hosts;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val != nullptr && std::strcmp(o->keyword, "sslmode") == 0) {
            mode = o->val;
        } else if (o->val != nullptr &&
                   (std::strcmp(o->keyword, "host") == 0 || std::strcmp(o->keyword, "hostaddr") == 0)) {
            hosts += std::string(hosts.empty() ? "" : ",") + o->val;
        }
    }
    const char* env_mode = std::getenv("PGSSLMODE");
    std::string from;
    if (mode.empty() && env_mode != nullptr && *env_mode != '\0') {
        mode = env_mode;
        from = " (from PGSSLMODE)";
    }
    if (mode == "verify-full") {
        return;
    }
    if (hosts.empty()) {
        const char* env_host = std::getenv("PGHOST");
        hosts = env_host != nullptr ? env_host : "";
    }
    bool remote = false;
    for (std::size_t at = 0; at <= hosts.size();) {
        auto comma = hosts.find(',', at);
        auto host = hosts.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        remote = remote || !loopback(host);
        if (comma == std::string::npos)
            break;
        at = comma + 1;
    }
    if (!remote) {
        return;
    }
    std::string why =
        mode.empty() || mode == "prefer" || mode == "allow"
            ? fmt::format("sslmode={}{} falls back to an unencrypted connection and checks no certificate",
                          mode.empty() ? "prefer" : mode, mode.empty() ? " (libpq's default)" : "")
        : mode == "disable" ? std::string("sslmode=disable sends the password and every row in clear")
        : mode == "require" ? std::string("sslmode=require encrypts but checks no certificate")
                            : fmt::format("sslmode={} checks the certificate but not the host name", mode);
    diags.warning(node.location_of("url"), node.path_of("url"),
                  fmt::format("{}{}: anyone on the path can pose as the server; use sslmode=verify-full with "
                              "sslrootcert",
                              why, from));
}

}  // namespace

Secret connection_url(const ConfigNode& node, Diagnostics& diags) {
    Secret url;
    url = node.get_secret("url");
    if (url.empty()) {
        const char* env = std::getenv("DATABASE_URL");
        url = Secret(env != nullptr ? env : "");
    }
    if (url.empty()) {
        diags.error(node.location_of("url"), node.path_of("url"),
                    "no database: set url (or url_file), or DATABASE_URL");
    } else {
        char* err = nullptr;
        PQconninfoOption* parsed = PQconninfoParse(url.reveal().c_str(), &err);
        if (parsed == nullptr) {
            // libpq's message quotes the bad part, which may be the password: scrub it.
            std::string m = err != nullptr ? err : "cannot be parsed";
            while (!m.empty() && m.back() == '\n') {
                m.pop_back();
            }
            m = scrub_conninfo(std::move(m), url.reveal());
            diags.error(node.location_of("url"), node.path_of("url"), "not a libpq connection string: " + m);
        }
        if (parsed != nullptr) {
            warn_weak_tls(parsed, node, diags);
        }
        PQfreemem(err);
        PQconninfoFree(parsed);
    }
    return url;
}

}  // namespace vigil::pg
