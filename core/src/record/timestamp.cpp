// SPDX-License-Identifier: Apache-2.0
// ISO-8601 timestamps through Howard Hinnant's date library (the basis of C++20 <chrono>
// calendars, which GCC 12 does not ship yet).
#include <cctype>
#include <sstream>

#include <date/date.h>

#include "vigil/record.hpp"

namespace vigil {

std::string format_timestamp(Timestamp t) { return date::format("%FT%TZ", t); }

namespace {
bool digits(std::string_view s) {
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return !s.empty();
}
}  // namespace

std::optional<Timestamp> parse_timestamp(std::string_view text) {
    // "YYYY-MM-DD?hh:mm:ss" is fixed width; a fraction and a zone may follow.
    constexpr std::size_t kBase = 19;
    if (text.size() < kBase || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) {
        return std::nullopt;
    }
    std::string base(text.substr(0, kBase));
    base[10] = 'T';
    std::istringstream in(base);
    date::sys_seconds seconds;
    in >> date::parse("%Y-%m-%dT%H:%M:%S", seconds);
    if (in.fail() || !digits(base.substr(0, 4)) || !digits(base.substr(17, 2))) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(kBase);
    std::int64_t micros = 0;
    if (!rest.empty() && rest[0] == '.') {
        std::size_t n = 1;
        while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) {
            ++n;
        }
        std::string_view frac = rest.substr(1, n - 1);
        if (frac.empty()) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < 6; ++i) {
            micros = micros * 10 + (i < frac.size() ? frac[i] - '0' : 0);
        }
        rest.remove_prefix(n);
    }
    std::chrono::minutes offset{0};
    if (rest == "Z" || rest == "z" || rest.empty()) {
        // UTC; no zone at all is how the original project wrote utcnow().isoformat().
    } else if ((rest[0] == '+' || rest[0] == '-') && (rest.size() == 6 || rest.size() == 5 || rest.size() == 3)) {
        std::string_view hh = rest.substr(1, 2);
        std::string_view mm = rest.size() == 6 ? rest.substr(4, 2) : rest.size() == 5 ? rest.substr(3, 2) : "00";
        if (!digits(hh) || !digits(mm) || (rest.size() == 6 && rest[3] != ':')) {
            return std::nullopt;
        }
        int minutes = ((hh[0] - '0') * 10 + (hh[1] - '0')) * 60 + (mm[0] - '0') * 10 + (mm[1] - '0');
        if (minutes > 18 * 60) {
            return std::nullopt;
        }
        offset = std::chrono::minutes(rest[0] == '+' ? minutes : -minutes);
    } else {
        return std::nullopt;
    }
    return Timestamp(seconds) + std::chrono::microseconds(micros) - offset;
}

}  // namespace vigil
