// SPDX-License-Identifier: Apache-2.0
#include "rollups.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <fmt/format.h>

#include "array_literal.hpp"
#include "pg_url.hpp"

namespace vigil::plugins::pg_sink {

int histogram_bucket(double ms) {
    if (!(ms > 1)) {  // NaN too
        return 0;
    }
    auto b = std::floor(3 * std::log2(ms));
    return static_cast<int>(std::clamp(b, 0.0, static_cast<double>(kHistogramBuckets - 1)));
}

bool counts_ok(const CheckRecord& check) {
    if (check.ok) {
        return *check.ok;
    }
    return check.status_code && *check.status_code >= 200 && *check.status_code < 400;
}

void Rollup::add(const CheckRecord& check) {
    double rt = check.response_time;
    if (checks == 0) {
        min = max = rt;
    } else {
        min = std::min(min, rt);
        max = std::max(max, rt);
    }
    ++checks;
    ok_checks += counts_ok(check) ? 1 : 0;
    sum += rt;
    ++histogram[static_cast<std::size_t>(histogram_bucket(rt))];
}

void roll_up(const Batch& batch, const std::vector<std::size_t>& rows, Rollups& hourly, std::set<Timestamp>& days) {
    using std::chrono::floor;
    for (auto i : rows) {
        const auto& c = batch.records[i].check;
        hourly[{c.name, floor<std::chrono::hours>(c.timestamp), c.location.value_or("")}].add(c);
        days.insert(floor<std::chrono::days>(c.timestamp));
    }
}

std::string rollup_upsert_sql(const std::string& table) {
    return fmt::format(
        "INSERT INTO {} AS t (name, bucket, location, checks, ok_checks, response_time_sum, response_time_min, "
        "response_time_max, histogram) "
        "SELECT n, b, l, c, o, s, mi, ma, h::integer[] FROM unnest($1::text[], $2::timestamptz[], $3::integer[], "
        "$4::integer[], $5::float8[], $6::float8[], $7::float8[], $8::text[], $9::text[]) "
        "AS u(n, b, c, o, s, mi, ma, h, l) ORDER BY n, b, l "
        "ON CONFLICT (name, bucket, location) DO UPDATE SET checks = t.checks + excluded.checks, "
        "ok_checks = t.ok_checks + excluded.ok_checks, "
        "response_time_sum = t.response_time_sum + excluded.response_time_sum, "
        "response_time_min = least(t.response_time_min, excluded.response_time_min), "
        "response_time_max = greatest(t.response_time_max, excluded.response_time_max), "
        "histogram = vigil_hist_add(t.histogram, excluded.histogram)",
        pg::quote_identifier(table));
}

std::array<std::string, 9> rollup_parameters(const Rollups& rollups) {
    ArrayLiteral names, starts, checks, oks, sums, mins, maxes, histograms, locations;
    for (const auto& [key, r] : rollups) {
        names.add(std::get<0>(key));
        starts.add(std::get<1>(key));
        locations.add(std::get<2>(key));
        checks.add(r.checks);
        oks.add(r.ok_checks);
        sums.add(r.sum);
        mins.add(r.min);
        maxes.add(r.max);
        histograms.add(fmt::format("{{{}}}", fmt::join(r.histogram, ",")));
    }
    return {names.c_str(), starts.c_str(), checks.c_str(),     oks.c_str(),      sums.c_str(),
            mins.c_str(),  maxes.c_str(),  histograms.c_str(), locations.c_str()};
}

}  // namespace vigil::plugins::pg_sink
