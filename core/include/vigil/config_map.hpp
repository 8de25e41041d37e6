// SPDX-License-Identifier: Apache-2.0
// Option tables bound to config structs (Fluent Bit's config_map): a plugin says once which
// member each option fills, with the limits its value must keep, and one call reads them all.
// parse_config is left with what only the plugin knows (a URL's shape, two options that exclude
// each other), instead of a getter, a range check and an error message per key.
//
//     const vigil::Bound<Config> kBound[] = {
//         vigil::bind<&Config::topic>("topic"),
//         vigil::bind<&Config::batch_size>("batch_size", {.min = 1, .max = 10000}),
//         vigil::bind<&Config::poll_interval>("poll_interval", {.at_least = 10ms}),
//         vigil::bind<&Config::format>("format"),   // an enum: one_of's values, in its order
//     };
//     vigil::load_bound<Config>(kBound, node, config, diags);
//
// Header-only on purpose: the descriptor's OptionSpec table stays what the ABI froze; bindings
// live inside each plugin. A key that is not in the node's table, or a member whose type cannot
// hold the option's type, is a plugin bug: the getters throw std::logic_error at the first load
// and `bound_problems()` finds it in the plugin's config test without loading anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "vigil/config.hpp"

namespace vigil {

/// What a bound value must keep. Numbers (Int, Size) use min and max; durations at_least,
/// at_most and above_zero. zero_is_off accepts 0 whatever the lower limit says (0 = "never").
struct Limits {
    std::optional<std::int64_t> min;
    std::optional<std::int64_t> max;
    std::optional<Duration> at_least;
    std::optional<Duration> at_most;
    bool above_zero = false;
    bool zero_is_off = false;
    /// Why the limit is there, appended to the error: "no check result is smaller".
    const char* why = nullptr;
};

template <class Config>
struct Bound;

/// The entry of `key` in a nullptr-terminated table; nullptr when it has none.
inline const OptionSpec* find_option(const OptionSpec* table, std::string_view key) {
    for (const OptionSpec* o = table; o != nullptr && o->key != nullptr; ++o) {
        if (key == o->key) {
            return o;
        }
    }
    return nullptr;
}

namespace detail {

template <class T>
struct MemberOf;
template <class C, class T>
struct MemberOf<T C::*> {
    using Owner = C;
    using Type = T;
};

template <class T>
struct IsStdOptional : std::false_type {};
template <class T>
struct IsStdOptional<std::optional<T>> : std::true_type {};

template <class T>
struct IsChronoDuration : std::false_type {};
template <class R, class P>
struct IsChronoDuration<std::chrono::duration<R, P>> : std::true_type {};

constexpr std::uint32_t bit(OptionType t) { return 1u << static_cast<unsigned>(t); }

/// The option types a member of type T can hold.
template <class T>
constexpr std::uint32_t accepted_types() {
    if constexpr (IsStdOptional<T>::value) {
        return accepted_types<typename T::value_type>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        return bit(OptionType::String) | bit(OptionType::Secret);
    } else if constexpr (std::is_same_v<T, std::filesystem::path> || std::is_enum_v<T>) {
        return bit(OptionType::String);  // a path to resolve; an enum of one_of's values
    } else if constexpr (std::is_same_v<T, Secret>) {
        return bit(OptionType::Secret);
    } else if constexpr (std::is_same_v<T, bool>) {
        return bit(OptionType::Bool);
    } else if constexpr (std::is_floating_point_v<T>) {
        return bit(OptionType::Float);
    } else if constexpr (std::is_integral_v<T>) {
        return bit(OptionType::Int) | bit(OptionType::Size);
    } else if constexpr (IsChronoDuration<T>::value) {
        return bit(OptionType::Duration);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        return bit(OptionType::StringList);
    } else if constexpr (std::is_same_v<T, std::vector<std::pair<std::string, std::string>>>) {
        return bit(OptionType::StringMap);
    } else {
        static_assert(sizeof(T) == 0, "vigil::bind: no option type fills a member of this type");
        return 0;
    }
}

inline void limit_error(const ConfigNode& from, std::string_view key, const Limits& l, Diagnostics& diags,
                        std::string message) {
    if (l.why != nullptr) {
        message += ": ";
        message += l.why;
    }
    diags.error(from.location_of(key), from.path_of(key), std::move(message));
}

template <class T>
bool integer_in_limits(const ConfigNode& from, std::string_view key, const Limits& l, std::int64_t v, bool is_size,
                       Diagnostics& diags) {
    constexpr auto kTypeMax = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    std::int64_t lo = l.min.value_or(std::is_signed_v<T> ? std::numeric_limits<std::int64_t>::min() : 0);
    std::int64_t hi = l.max.value_or(kTypeMax > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                                         ? std::numeric_limits<std::int64_t>::max()
                                         : static_cast<std::int64_t>(kTypeMax));
    if (lo < static_cast<std::int64_t>(std::numeric_limits<T>::min())) {
        lo = static_cast<std::int64_t>(std::numeric_limits<T>::min());
    }
    if ((v >= lo && v <= hi) || (v == 0 && l.zero_is_off)) {
        return true;
    }
    auto show = [&](std::int64_t n) {
        return is_size ? format_size(static_cast<std::uint64_t>(n)) : std::to_string(n);
    };
    std::string got = show(v);
    if (l.max && (l.min || !std::is_signed_v<T>)) {
        limit_error(from, key, l, diags,
                    l.zero_is_off ? fmt::format("must be 0 (off) or between {} and {}, got {}", show(lo), show(hi), got)
                                  : fmt::format("must be between {} and {}, got {}", show(lo), show(hi), got));
    } else if (v > hi) {
        limit_error(from, key, l, diags, fmt::format("must be at most {}, got {}", show(hi), got));
    } else {
        limit_error(from, key, l, diags,
                    l.zero_is_off ? fmt::format("must be 0 (off) or at least {}, got {}", show(lo), got)
                                  : fmt::format("must be at least {}, got {}", show(lo), got));
    }
    return false;
}

inline bool duration_in_limits(const ConfigNode& from, std::string_view key, const Limits& l, Duration v,
                               Diagnostics& diags) {
    if (v == Duration::zero() && l.zero_is_off) {
        return true;
    }
    const char* off = l.zero_is_off ? "0 (never) or " : "";
    if (l.above_zero && v <= Duration::zero()) {
        limit_error(from, key, l, diags, "must be more than 0");
        return false;
    }
    if ((l.at_least && v < *l.at_least) || (l.at_most && v > *l.at_most)) {
        std::string want = l.at_least && l.at_most ? fmt::format("between {} and {}", format_duration(*l.at_least),
                                                                 format_duration(*l.at_most))
                           : l.at_least            ? "at least " + format_duration(*l.at_least)
                                                   : "at most " + format_duration(*l.at_most);
        limit_error(from, key, l, diags, fmt::format("must be {}{}, got {}", off, want, format_duration(v)));
        return false;
    }
    return true;
}

/// Reads `key` of `from` as a T; false (with an error in diags) when it breaks its limits.
template <class T>
bool read_value(const ConfigNode& from, std::string_view key, const Limits& l, T& out, Diagnostics& diags) {
    if constexpr (std::is_same_v<T, std::string>) {
        const OptionSpec* spec = find_option(from.table(), key);
        out =
            spec != nullptr && spec->type == OptionType::Secret ? from.get_secret(key).reveal() : from.get_string(key);
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
        auto text = from.get_string(key);
        out = text.empty() ? std::filesystem::path() : from.resolve_path(text);
    } else if constexpr (std::is_same_v<T, Secret>) {
        out = from.get_secret(key);
    } else if constexpr (std::is_same_v<T, bool>) {
        out = from.get_bool(key);
    } else if constexpr (std::is_floating_point_v<T>) {
        out = static_cast<T>(from.get_float(key));
    } else if constexpr (std::is_integral_v<T>) {
        const OptionSpec* spec = find_option(from.table(), key);
        bool is_size = spec != nullptr && spec->type == OptionType::Size;
        std::uint64_t raw = is_size ? from.get_size(key) : static_cast<std::uint64_t>(from.get_int(key));
        if (is_size && raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            limit_error(from, key, l, diags, fmt::format("{} is too large", format_size(raw)));
            return false;
        }
        auto v = static_cast<std::int64_t>(raw);
        if (!integer_in_limits<T>(from, key, l, v, is_size, diags)) {
            return false;
        }
        out = static_cast<T>(v);
    } else if constexpr (std::is_enum_v<T>) {
        // The enumerators follow one_of's order: the first value is enumerator 0.
        const OptionSpec* spec = find_option(from.table(), key);
        auto text = from.get_string(key);
        if (spec == nullptr || spec->one_of == nullptr) {
            throw std::logic_error(fmt::format("option {} is bound to an enum but has no one_of", key));
        }
        for (std::size_t i = 0; spec->one_of[i] != nullptr; ++i) {
            if (text == spec->one_of[i]) {
                out = static_cast<T>(i);
                return true;
            }
        }
        // Validation already refused a value outside one_of; reaching here is a plugin bug.
        throw std::logic_error(fmt::format("option {}: \"{}\" is not one of its values", key, text));
    } else if constexpr (IsChronoDuration<T>::value) {
        auto d = from.get_duration(key);
        if (!duration_in_limits(from, key, l, d, diags)) {
            return false;
        }
        out = std::chrono::duration_cast<T>(d);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        out = from.get_string_list(key);
    } else {
        out = from.get_string_map(key);
    }
    return true;
}

inline bool is_set(const ConfigNode& node, const char* key) {
    if (node.has(key)) {
        return true;
    }
    // A secret counts as set when its *_file form is.
    const OptionSpec* spec = find_option(node.table(), key);
    return spec != nullptr && spec->type == OptionType::Secret && node.has(std::string(key) + "_file");
}

template <auto Member>
void load_member(const Bound<typename MemberOf<decltype(Member)>::Owner>& self, const ConfigNode& from,
                 typename MemberOf<decltype(Member)>::Owner& out, Diagnostics& diags) {
    using T = typename MemberOf<decltype(Member)>::Type;
    if constexpr (IsStdOptional<T>::value) {
        // An optional member stays empty unless the option is written (or inherited).
        if (!is_set(from, self.key)) {
            return;
        }
        typename T::value_type value{};
        if (read_value(from, self.key, self.limits, value, diags)) {
            out.*Member = std::move(value);
        }
    } else {
        T value{};
        if (read_value(from, self.key, self.limits, value, diags)) {
            out.*Member = std::move(value);
        }
    }
}

}  // namespace detail

/// One option bound to the member it fills. Make it with bind<&Config::member>(key, limits).
template <class Config>
struct Bound {
    const char* key = nullptr;
    void (*load)(const Bound&, const ConfigNode&, Config&, Diagnostics&) = nullptr;
    std::uint32_t accepts = 0;  // bit per OptionType the member can hold
    bool is_enum = false;
    Limits limits{};
};

/// Binds option `key` to `Member`: std::string (String or Secret), std::filesystem::path (String,
/// resolved against the file's directory), Secret, bool, double, any integer (Int or Size, within
/// limits and the type's range), an enum (String with one_of, enumerators in one_of's order), any
/// std::chrono::duration (Duration), std::vector<std::string> (StringList), a vector of string
/// pairs (StringMap), or std::optional of any of these (left empty when the option is not set).
template <auto Member>
constexpr Bound<typename detail::MemberOf<decltype(Member)>::Owner> bind(const char* key, Limits limits = {}) {
    using T = typename detail::MemberOf<decltype(Member)>::Type;
    using V = typename std::conditional_t<detail::IsStdOptional<T>::value, T, std::optional<T>>::value_type;
    return {.key = key,
            .load = &detail::load_member<Member>,
            .accepts = detail::accepted_types<T>(),
            .is_enum = std::is_enum_v<V>,
            .limits = limits};
}

/// Loads every bound option of `node` into `out`: the value written, else the table's default;
/// an option with neither leaves its member as it was (so `out` may arrive holding defaults of its
/// own, or a parent's rules). With a `fallback` (a plugin-level section under a site), an option
/// the node does not set is read from the fallback instead. A value outside its limits is an
/// error at its location and leaves the member as it was. Returns false when any was refused.
template <class Config>
bool load_bound(std::span<const Bound<Config>> bound, const ConfigNode& node, Config& out, Diagnostics& diags,
                const ConfigNode* fallback = nullptr) {
    auto before = diags.error_count();
    for (const auto& b : bound) {
        const ConfigNode& from = fallback == nullptr || detail::is_set(node, b.key) ? node : *fallback;
        const OptionSpec* spec = find_option(from.table(), b.key);
        if (spec != nullptr && spec->default_value == nullptr && !detail::is_set(from, b.key)) {
            continue;  // neither written nor defaulted: the member keeps what it holds
        }
        b.load(b, from, out, diags);
    }
    return diags.error_count() == before;
}

/// What is wrong with a binding against the table it reads: a key the table lacks, a key bound
/// twice, an option type the member cannot hold, an enum without one_of. Empty when all is well;
/// each plugin's config test checks this.
template <class Config>
std::vector<std::string> bound_problems(const OptionSpec* table, std::span<const Bound<Config>> bound) {
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < bound.size(); ++i) {
        const auto& b = bound[i];
        for (std::size_t j = 0; j < i; ++j) {
            if (std::strcmp(bound[j].key, b.key) == 0) {
                problems.push_back(fmt::format("{} is bound twice", b.key));
            }
        }
        const OptionSpec* spec = find_option(table, b.key);
        if (spec == nullptr) {
            problems.push_back(fmt::format("{} is bound but not in the option table", b.key));
            continue;
        }
        if ((b.accepts & detail::bit(spec->type)) == 0) {
            problems.push_back(
                fmt::format("{} is of type {}, which its member cannot hold", b.key, to_string(spec->type)));
        }
        if (b.is_enum && spec->one_of == nullptr) {
            problems.push_back(fmt::format("{} is bound to an enum but lists no one_of", b.key));
        }
    }
    return problems;
}

}  // namespace vigil
