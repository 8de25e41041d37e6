// SPDX-License-Identifier: Apache-2.0
// ISO-8601 timestamps through Howard Hinnant's date library (the basis of C++20 <chrono>
// calendars, which GCC 12 does not ship yet): its calendar arithmetic, not its stream-based
// format and parse, which cost microseconds a call (a locale, an ostringstream) and every record
// is read with one and written to PostgreSQL with a few (pg_sink's state writes four a check).
#include <cctype>

#include <date/date.h>

#include "vigil/record.hpp"

namespace vigil {

std::string format_timestamp(Timestamp t) {
    auto day = date::floor<date::days>(t);
    date::year_month_day ymd{day};
    auto year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        return date::format("%FT%TZ", t);  // what no parsed timestamp holds: the library's own form
    }
    date::hh_mm_ss<std::chrono::microseconds> time{t - day};
    // "YYYY-MM-DDThh:mm:ss.uuuuuuZ", digits written in place.
    std::string out = "0000-00-00T00:00:00.000000Z";
    auto put = [&](std::size_t end, long long value, int width) {
        for (int i = 0; i < width; ++i, value /= 10) {
            out[end - static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        }
    };
    put(3, year, 4);
    put(6, static_cast<unsigned>(ymd.month()), 2);
    put(9, static_cast<unsigned>(ymd.day()), 2);
    put(12, time.hours().count(), 2);
    put(15, time.minutes().count(), 2);
    put(18, time.seconds().count(), 2);
    put(25, time.subseconds().count(), 6);
    return out;
}

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
    // YYYY-MM-DD?hh:mm:ss, every field its full width, read without a stream.
    auto number = [&](std::size_t at, std::size_t width) -> int {
        auto field = text.substr(at, width);
        if (!digits(field)) {
            return -1;
        }
        int n = 0;
        for (char c : field) {
            n = n * 10 + (c - '0');
        }
        return n;
    };
    if (text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    int y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2), mi = number(14, 2),
        sec = number(17, 2);
    date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                             date::day(static_cast<unsigned>(d))};
    if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || !ymd.ok()) {
        return std::nullopt;
    }
    auto seconds = date::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec);
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
