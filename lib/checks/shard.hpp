// SPDX-License-Identifier: Apache-2.0
// Which agent checks a site, and when in its interval: both from a hash of the site's name, so
// they are the same on every agent and across restarts, whatever the check's kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::checks {

/// A stable 64-bit hash of a site name (FNV-1a, mixed): sharding, the worker a site lands on and
/// the first-check offset use it.
std::uint64_t stable_hash(std::string_view name);

/// `shard: I/N`: this agent keeps the sites whose hash falls in part I of N.
struct Shard {
    unsigned index = 1;  // 1-based
    unsigned count = 1;
    bool keeps(const std::string& name) const;

    /// "I/N" with 1 <= I <= N; nullopt on anything else.
    static std::optional<Shard> parse(std::string_view text);
    bool operator==(const Shard&) const = default;
};

}  // namespace vigil::checks
