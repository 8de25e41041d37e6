// SPDX-License-Identifier: Apache-2.0
#include "shard.hpp"

#include <charconv>

namespace vigil::checks {

std::uint64_t stable_hash(std::string_view name) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : name) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    // FNV-1a's low bits are weak for short keys; a final mix spreads them (splitmix64).
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

bool Shard::keeps(const std::string& name) const { return stable_hash(name) % count + 1 == index; }

std::optional<Shard> Shard::parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string::npos) {
        return std::nullopt;
    }
    Shard s;
    auto a = std::from_chars(text.data(), text.data() + slash, s.index);
    auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), s.count);
    if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() ||
        b.ptr != text.data() + text.size() || s.count == 0 || s.index == 0 || s.index > s.count) {
        return std::nullopt;
    }
    return s;
}

}  // namespace vigil::checks
