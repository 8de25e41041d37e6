// SPDX-License-Identifier: Apache-2.0
// `rollups:`: per site, location and hour the checks, the good ones, response-time sum, min, max and a
// log-scale histogram (migrations/..._create_rollups.sql), added to in the transaction that
// inserts the rows, from the rows it inserted; per site and day the same, summed again from the
// hourly ones for the days a transaction marked (the upkeep, every 5 minutes). The status page
// reads these instead of the rows. The sums are made here, in the sink, so a chunk costs one
// upsert per site and hour, whatever the number of its checks.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "vigil/batch.hpp"
#include "vigil/config.hpp"
#include "vigil/record.hpp"

namespace vigil::plugins::pg_sink {

struct RollupConfig {
    bool enabled = false;
    Duration hourly_retention = std::chrono::hours(24 * 8);
    Duration daily_retention = std::chrono::hours(24 * 400);
};

/// Buckets of the histogram: three per doubling of the response time from 1 ms, so that a
/// quantile read from it is within half a bucket (13%); the last holds everything from 52 s.
inline constexpr int kHistogramBuckets = 48;

/// The bucket (0 .. kHistogramBuckets - 1) of a response time in ms: floor(3 log2(ms)), clamped.
int histogram_bucket(double ms);

/// One site's sums over one period.
struct Rollup {
    int checks = 0;
    int ok_checks = 0;
    double sum = 0, min = 0, max = 0;
    std::array<int, kHistogramBuckets> histogram{};
    void add(const CheckRecord& check);
};

/// Whether a check counts as good: its `ok`, or for a record without one (the original
/// project's seven fields) a 2xx or 3xx status.
bool counts_ok(const CheckRecord& check);

/// (site, period start, location) -> sums (location "": checks that name none); ordered, so that
/// upserts lock rows in one order in every transaction (two writers never deadlock on them).
using Rollups = std::map<std::tuple<std::string, Timestamp, std::string>, Rollup>;

/// The hourly sums of the checks of `batch` at `rows`, and the days (00:00 UTC) they fall on.
void roll_up(const Batch& batch, const std::vector<std::size_t>& rows, Rollups& hourly, std::set<Timestamp>& days);

/// INSERT ... ON CONFLICT DO UPDATE adding to `table`'s rows: $1 names, $2 starts, $3 checks,
/// $4 ok_checks, $5 sums, $6 mins, $7 maxes, $8 histograms (text of integer arrays), $9 locations.
std::string rollup_upsert_sql(const std::string& table);

/// The nine array parameters of rollup_upsert_sql for `rollups`.
std::array<std::string, 9> rollup_parameters(const Rollups& rollups);

}  // namespace vigil::plugins::pg_sink
