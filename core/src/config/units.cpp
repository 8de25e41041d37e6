// SPDX-License-Identifier: Apache-2.0
// Duration ("250ms", "1h30m") and size ("512KiB", "1MiB") parsing, strict: anything not written
// exactly as documented is refused, never guessed (house rule 2).
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/core.h>

#include "vigil/config.hpp"

namespace vigil {

std::string_view to_string(OptionType type) noexcept {
    switch (type) {
        case OptionType::String: return "string";
        case OptionType::Int: return "integer";
        case OptionType::Float: return "number";
        case OptionType::Bool: return "boolean";
        case OptionType::Duration: return "duration";
        case OptionType::Size: return "size";
        case OptionType::Secret: return "secret";
        case OptionType::StringList: return "list of strings";
        case OptionType::StringMap: return "map of strings";
        case OptionType::Map: return "map";
        case OptionType::List: return "list of maps";
    }
    return "unknown";
}

namespace {

struct Unit {
    std::string_view suffix;
    double nanos;
};
// Longest suffixes first so "ms" is not read as "m" followed by garbage.
// Days for what is counted in days (a certificate's remaining life: `cert_warn: 14d`).
constexpr std::array<Unit, 8> kDurationUnits{
    {{"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}}};

bool parse_number(std::string_view& text, double& value) {
    std::size_t n = 0;
    while (n < text.size() && ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) {
        ++n;
    }
    if (n == 0) {
        return false;
    }
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + n, value);
    if (ec != std::errc() || ptr != text.data() + n) {
        return false;
    }
    text.remove_prefix(n);
    return true;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    if (text == "0") {  // the one unitless duration that cannot be misread
        return Duration::zero();
    }
    double total = 0;
    while (!text.empty()) {
        double value = 0;
        if (!parse_number(text, value)) {
            return std::nullopt;
        }
        const Unit* unit = nullptr;
        for (const auto& u : kDurationUnits) {
            if (text.substr(0, u.suffix.size()) == u.suffix && (u.suffix != "m" || text.substr(0, 2) != "ms")) {
                unit = &u;
                break;
            }
        }
        if (unit == nullptr) {
            return std::nullopt;
        }
        text.remove_prefix(unit->suffix.size());
        total += value * unit->nanos;
    }
    if (!std::isfinite(total) || total > static_cast<double>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
    }
    return Duration(static_cast<std::int64_t>(std::llround(total)));
}

std::string format_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    auto v = static_cast<double>(bytes);
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    if (u == 0) {
        return fmt::format("{}B", bytes);
    }
    if (v == static_cast<double>(static_cast<std::uint64_t>(v))) {
        return fmt::format("{}{}", static_cast<std::uint64_t>(v), units[u]);
    }
    return fmt::format("{:.1f}{}", v, units[u]);
}

std::string format_duration(Duration d) {
    using namespace std::chrono;
    auto ns = d.count();
    if (ns == 0) {
        return "0s";
    }
    if (ns % 1'000'000'000 != 0) {
        if (ns % 1'000'000 == 0) {
            return fmt::format("{}ms", ns / 1'000'000);
        }
        if (ns % 1'000 == 0) {
            return fmt::format("{}us", ns / 1'000);
        }
        return fmt::format("{}ns", ns);
    }
    auto secs = ns / 1'000'000'000;
    std::string out;
    if (secs >= 86400 && secs % 86400 == 0) {
        return fmt::format("{}d", secs / 86400);
    }
    if (secs >= 3600) {
        out += fmt::format("{}h", secs / 3600);
        secs %= 3600;
    }
    if (secs >= 60) {
        out += fmt::format("{}m", secs / 60);
        secs %= 60;
    }
    if (secs > 0) {
        out += fmt::format("{}s", secs);
    }
    return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    struct SizeUnit {
        std::string_view suffix;
        std::uint64_t factor;
    };
    static constexpr std::array<SizeUnit, 9> kUnits{{{"KiB", 1ULL << 10},
                                                     {"MiB", 1ULL << 20},
                                                     {"GiB", 1ULL << 30},
                                                     {"TiB", 1ULL << 40},
                                                     {"KB", 1000ULL},
                                                     {"MB", 1000ULL * 1000},
                                                     {"GB", 1000ULL * 1000 * 1000},
                                                     {"TB", 1000ULL * 1000 * 1000 * 1000},
                                                     {"B", 1ULL}}};
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr == text.data()) {
        return std::nullopt;
    }
    std::string_view suffix(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
    std::uint64_t factor = 1;
    if (!suffix.empty()) {
        factor = 0;
        for (const auto& u : kUnits) {
            if (suffix == u.suffix) {
                factor = u.factor;
            }
        }
        if (factor == 0) {
            return std::nullopt;
        }
    }
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) {
        return std::nullopt;
    }
    return value * factor;
}

}  // namespace vigil
