// SPDX-License-Identifier: Apache-2.0
// What the disk buffer's files share: its clock, its timings and the names it stores and exports.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/metrics.hpp"
#include "vigil/record.hpp"

namespace vigil::pipeline::buffer::detail {

using Clock = std::chrono::steady_clock;
inline constexpr auto kTick = std::chrono::seconds(1);  // gauges (oldest age) and retries
inline constexpr auto kRetryAfterError = std::chrono::seconds(1);
// When even a delete meets a full map (LMDB copies the pages it changes), the map grows by this
// much past max_size rather than never free anything again.
inline constexpr std::uint64_t kGrowWhenStuck = std::uint64_t{8} << 20;
// The meta keys of the sinks' positions: "cursor/<sink instance>".
inline constexpr std::string_view kCursorPrefix = "cursor/";

inline Timestamp now_us() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}
inline Labels labels(const std::string& pipeline) { return {{"pipeline", pipeline}}; }

}  // namespace vigil::pipeline::buffer::detail
