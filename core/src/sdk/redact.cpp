// SPDX-License-Identifier: Apache-2.0
#include "vigil/redact.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace vigil {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

int hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Percent-decoding; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        int hi = i + 1 < s.size() ? hex(s[i + 1]) : -1;
        int lo = i + 2 < s.size() ? hex(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

void add(std::vector<std::string>& secrets, std::string_view s) {
    if (s.empty() || std::find(secrets.begin(), secrets.end(), s) != secrets.end()) {
        return;
    }
    secrets.emplace_back(s);
    if (auto d = decode(s); d && *d != s && !d->empty()) {
        secrets.push_back(std::move(*d));
    }
}

// Calls f(pair, eq) for each `key=value` of a URL's query, split at '&'; eq is npos without '='.
template <typename F>
void each_pair(std::string_view query, F&& f) {
    while (true) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        f(pair, pair.find('='));
        if (amp == std::string_view::npos) {
            return;
        }
        query = query.substr(amp + 1);
    }
}

// The secrets among a URL's query values (libpq's password and sslpassword among them).
void query_secrets(std::string_view query, std::vector<std::string>& secrets) {
    each_pair(query, [&](std::string_view pair, std::size_t eq) {
        if (eq != std::string_view::npos && secret_name(pair.substr(0, eq))) {
            add(secrets, pair.substr(eq + 1));
        }
    });
}

// libpq's key=value form: values bare or single-quoted, with backslash escapes.
void keyword_secrets(std::string_view s, std::vector<std::string>& secrets) {
    std::size_t i = 0;
    auto space = [&] {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
    };
    while (i < s.size()) {
        space();
        auto key_start = i;
        while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
        auto key = s.substr(key_start, i - key_start);
        space();
        if (i >= s.size() || s[i] != '=') {
            continue;
        }
        ++i;
        space();
        std::string value;
        std::size_t raw_start = i;
        if (i < s.size() && s[i] == '\'') {
            ++i;
            raw_start = i;
            while (i < s.size() && s[i] != '\'') {
                if (s[i] == '\\' && i + 1 < s.size())
                    ++i;
                value += s[i++];
            }
            if (i < s.size())
                ++i;
        } else {
            while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) {
                if (s[i] == '\\' && i + 1 < s.size())
                    ++i;
                value += s[i++];
            }
        }
        if (secret_name(key)) {
            add(secrets, value);
            // What was written, quotes and escapes included, up to where the value ended.
            add(secrets, s.substr(raw_start, std::min(i, s.size()) - raw_start));
        }
    }
}

}  // namespace

bool secret_name(std::string_view name) {
    auto k = lower(name);
    for (const char* word :
         {"pass", "pwd", "secret", "token", "key", "auth", "sig", "session", "cookie", "credential"}) {
        if (k.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

std::string redact_url(std::string_view url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return std::string(url);
    }
    std::string out(url.substr(0, scheme_end + 3));
    auto rest = url.substr(scheme_end + 3);
    // The authority ends at the first '/', '?' or '#'; its user info at its last '@'.
    auto authority_end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, authority_end);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        auto userinfo = authority.substr(0, at);
        auto colon = userinfo.find(':');
        out += colon == std::string_view::npos
                   ? std::string(userinfo)
                   : std::string(userinfo.substr(0, colon)) + ":" + std::string(kRedactedPart);
        out += '@';
        authority = authority.substr(at + 1);
    }
    out += authority;
    if (authority_end == std::string_view::npos) {
        return out;
    }
    rest = rest.substr(authority_end);
    auto q = rest.find('?');
    if (q == std::string_view::npos) {
        out += rest;
        return out;
    }
    out += rest.substr(0, q + 1);
    auto query = rest.substr(q + 1);
    auto hash = query.find('#');
    auto fragment = hash == std::string_view::npos ? std::string_view() : query.substr(hash);
    query = query.substr(0, hash);
    bool first = true;
    each_pair(query, [&](std::string_view pair, std::size_t eq) {
        out += first ? "" : "&";
        first = false;
        if (eq != std::string_view::npos && secret_name(pair.substr(0, eq))) {
            out += pair.substr(0, eq + 1);
            out += kRedactedPart;
        } else {
            out += pair;
        }
    });
    out += fragment;
    return out;
}

std::vector<std::string> conninfo_secrets(std::string_view conninfo) {
    std::vector<std::string> secrets;
    auto s = conninfo;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    auto scheme_end = s.find("://");
    bool uri = scheme_end != std::string_view::npos &&
               (lower(s.substr(0, scheme_end)) == "postgresql" || lower(s.substr(0, scheme_end)) == "postgres");
    if (!uri) {
        keyword_secrets(s, secrets);
        return secrets;
    }
    auto rest = s.substr(scheme_end + 3);
    // Generous on purpose: a password holding '/', '?' or '#' unencoded is still a password, so
    // the user info runs to the last '@' of the whole string.
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto userinfo = rest.substr(0, at);
        if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
            add(secrets, userinfo.substr(colon + 1));
        }
        rest = rest.substr(at + 1);
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query_secrets(rest.substr(q + 1), secrets);
    }
    return secrets;
}

std::string scrub(std::string message, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) {
            continue;
        }
        for (auto at = message.find(secret); at != std::string::npos;
             at = message.find(secret, at + kRedactedPart.size())) {
            message.replace(at, secret.size(), kRedactedPart);
        }
    }
    // A quoted token that is a piece of a secret: libpq's "invalid percent-encoded token: "..."".
    std::string out;
    std::size_t i = 0;
    while (i < message.size()) {
        auto open = message.find('"', i);
        auto close = open == std::string::npos ? std::string::npos : message.find('"', open + 1);
        if (close == std::string::npos) {
            out += message.substr(i);
            break;
        }
        auto token = std::string_view(message).substr(open + 1, close - open - 1);
        bool piece = !token.empty() && std::any_of(secrets.begin(), secrets.end(), [&](const std::string& s) {
            return s.find(token) != std::string::npos;
        });
        out += message.substr(i, open + 1 - i);
        out += piece ? std::string(kRedactedPart) : std::string(token);
        out += '"';
        i = close + 1;
    }
    return out;
}

std::string scrub_conninfo(std::string message, std::string_view conninfo) {
    message = scrub(std::move(message), conninfo_secrets(conninfo));
    // Any URL the message quotes (libpq echoes a bad one whole) loses its password as well.
    std::string out;
    std::size_t i = 0;
    while (true) {
        auto at = message.find("://", i);
        if (at == std::string::npos) {
            out += message.substr(i);
            return out;
        }
        auto start = at;
        while (start > i && std::isalpha(static_cast<unsigned char>(message[start - 1])))
            --start;
        auto end = message.find_first_of(" \"'\n", at);
        if (end == std::string::npos)
            end = message.size();
        out += message.substr(i, start - i);
        out += redact_url(std::string_view(message).substr(start, end - start));
        i = end;
    }
}

}  // namespace vigil
