// SPDX-License-Identifier: Apache-2.0
#include "config/interpolate.hpp"

#include <cctype>

extern char** environ;

namespace vigil::config {

Environment snapshot_environment() {
    Environment env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        }
    }
    return env;
}

namespace {
bool valid_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
            return false;
        }
    }
    return true;
}
}  // namespace

std::optional<std::string> interpolate(std::string_view text, const Environment& env, std::string& error) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '$' || i + 1 == text.size()) {
            out += c;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (text[i + 1] != '{') {
            out += c;
            continue;
        }
        auto close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            // The value is never echoed: it may be a password that merely holds a "${".
            error = "unterminated \"${\" at character " + std::to_string(i + 1) +
                    " of the value (write $$ for a literal $)";
            return std::nullopt;
        }
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::string_view name = inner;
        std::optional<std::string_view> fallback;
        if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
            name = inner.substr(0, sep);
            fallback = inner.substr(sep + 2);
        }
        if (!valid_name(name)) {
            error = "invalid variable name in the \"${\" at character " + std::to_string(i + 1) +
                    " of the value (a name is letters, digits and _, not starting with a digit; write $$ for a "
                    "literal $)";
            return std::nullopt;
        }
        auto it = env.find(name);
        if (it != env.end() && !(fallback && it->second.empty())) {
            out += it->second;
        } else if (fallback) {
            out += *fallback;
        } else {
            error = "environment variable " + std::string(name) + " is not set (use ${" + std::string(name) +
                    ":-default} for a default)";
            return std::nullopt;
        }
        i = close;
    }
    return out;
}

}  // namespace vigil::config
