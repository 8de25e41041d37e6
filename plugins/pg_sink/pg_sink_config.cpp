// SPDX-License-Identifier: Apache-2.0
#include "pg_sink_config.hpp"

#include <cstdlib>
#include <cstring>
#include <set>

#include <fmt/core.h>

#include "pg_url.hpp"

namespace vigil::plugins::pg_sink {

namespace {
// The thresholds, as `state:` has them (with defaults) and as each of its `sites:` entries may
// override them (without: unset ones are `state:`'s).
constexpr OptionSpec down_after(const char* d) {
    return {.key = "down_after",
            .type = OptionType::Int,
            .default_value = d,
            .description = "Failed checks in a row that make a site down"};
}
constexpr OptionSpec up_after(const char* d) {
    return {.key = "up_after",
            .type = OptionType::Int,
            .default_value = d,
            .description = "Good checks in a row that end down, and healthy ones that end degraded"};
}
constexpr OptionSpec slow_ms(const char* d) {
    return {.key = "slow_ms",
            .type = OptionType::Float,
            .default_value = d,
            .description =
                "A good check slower than this (ms) is slow; down_after slow checks in a row make "
                "the site degraded; 0: off"};
}
constexpr OptionSpec cert_warn(const char* d) {
    return {.key = "cert_warn",
            .type = OptionType::Duration,
            .default_value = d,
            .description = "Degraded when the TLS certificate expires sooner than this; 0: off"};
}
constexpr OptionSpec quorum(const char* d) {
    return {.key = "quorum",
            .type = OptionType::String,
            .default_value = d,
            .description =
                "Of the locations still voting, how many must be down for the site to be down: "
                "majority, all, any or a number N (all of them when fewer vote); fewer down "
                "makes it degraded (cause partial)"};
}
constexpr OptionSpec location_timeout(const char* d) {
    return {.key = "location_timeout",
            .type = OptionType::Duration,
            .default_value = d,
            .description =
                "A location with no check for this long (of the site's latest check time) stops "
                "voting, with an event saying so, until it checks again; 0: never"};
}

const OptionSpec kSiteRuleOptions[] = {
    {.key = "match",
     .type = OptionType::String,
     .required = true,
     .description = "Shell glob over site names (\"shop-*\"); the first entry that matches a site wins"},
    down_after(nullptr),
    up_after(nullptr),
    slow_ms(nullptr),
    cert_warn(nullptr),
    quorum(nullptr),
    location_timeout(nullptr),
    {},
};

const OptionSpec kRollupOptions[] = {
    {.key = "hourly_retention",
     .type = OptionType::Duration,
     .default_value = "8d",
     .description = "Hourly rollups older than this are deleted (the status page's 24 h and 7 d figures read them)"},
    {.key = "daily_retention",
     .type = OptionType::Duration,
     .default_value = "400d",
     .description = "Daily rollups older than this are deleted (30 d, 90 d and the 90-day bar read them)"},
    {},
};

const OptionSpec kStateOptions[] = {
    down_after("3"),
    up_after("2"),
    slow_ms("0"),
    cert_warn("14d"),
    quorum("majority"),
    location_timeout("5m"),
    {.key = "sites",
     .type = OptionType::List,
     .children = kSiteRuleOptions,
     .description = "Per-site overrides: each entry's `match` and any of the thresholds above; unset "
                    "ones are the defaults'"},
    {},
};
}  // namespace

const OptionSpec kOptions[] = {
    {.key = "url",
     .type = OptionType::Secret,
     .description =
         "libpq connection URL (postgresql://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem); "
         "default: $DATABASE_URL; or url_file naming a file that holds it"},
    {.key = "table",
     .type = OptionType::String,
     .default_value = "metrics",
     .description = "Table the records are written to (name or schema.name)"},
    {.key = "columns",
     .type = OptionType::StringMap,
     .description = "Record field to column name, for the fields whose column is named differently"},
    {.key = "max_rows",
     .type = OptionType::Int,
     .default_value = "5000",
     .description = "Rows per transaction at most; queued batches are merged up to this"},
    {.key = "max_delay",
     .type = OptionType::Duration,
     .default_value = "10ms",
     .description = "How long a transaction waits for more queued batches before it is written"},
    {.key = "connections",
     .type = OptionType::Int,
     .default_value = "2",
     .description = "Parallel connections; a large write is split across them, one transaction each"},
    {.key = "dead_letter_table",
     .type = OptionType::String,
     .default_value = "metrics_rejected",
     .description = "Table for rows the database refuses, with the raw record, SQLSTATE, message and origin"},
    pg::kMigrateOption,
    pg::kMigrationsDirOption,
    {.key = "state",
     .type = OptionType::Map,
     .children = kStateOptions,
     .description = "Keep each site's state (up, down, degraded) in site_state and its changes in "
                    "site_events, in the rows' transaction, from new rows only; absent: off"},
    {.key = "rollups",
     .type = OptionType::Map,
     .children = kRollupOptions,
     .description = "Add each new row to its site's hourly and daily sums (<table>_hourly, <table>_daily: "
                    "checks, good ones, response-time sum, min, max, histogram), in the rows' transaction; "
                    "the status page reads them; absent: off"},
    {.key = "retention",
     .type = OptionType::Duration,
     .description = "Drop the table's day partitions that ended longer ago than this (at start and hourly; "
                    "the table must be partitioned as the migrations make `metrics`); absent: keep every row"},
    {},
};

namespace {

// The state rules have no defaults in their tables: what a map does not set comes from the one
// above it (a site's rules from the state's, the state's from StateRules' own).
const Bound<StateRules> kRulesBound[] = {
    bind<&StateRules::down_after>("down_after", {.min = 1, .max = 1000}),
    bind<&StateRules::up_after>("up_after", {.min = 1, .max = 1000}),
    bind<&StateRules::slow_ms>("slow_ms"),
    bind<&StateRules::cert_warn>("cert_warn"),
    bind<&StateRules::location_timeout>("location_timeout"),
};
const Bound<RollupConfig> kRollupsBound[] = {
    bind<&RollupConfig::hourly_retention>("hourly_retention", {.at_least = std::chrono::hours(24)}),
    bind<&RollupConfig::daily_retention>("daily_retention", {.at_least = std::chrono::hours(24)}),
};
const Bound<Config> kBoundOptions[] = {
    bind<&Config::table>("table"),
    bind<&Config::dead_letter_table>("dead_letter_table"),
    bind<&Config::max_rows>("max_rows", {.min = 1, .max = 1'000'000}),
    bind<&Config::max_delay>("max_delay"),
    bind<&Config::connections>("connections", {.min = 1, .max = 64}),
    bind<&Config::retention>("retention", {.at_least = std::chrono::hours(24), .why = "whole days are dropped"}),
};

// Reads the thresholds set in `node` over `base`.
StateRules parse_rules(const ConfigNode& node, StateRules base, Diagnostics& diags) {
    load_bound(kBoundStateRules, node, base, diags);
    if (!(base.slow_ms >= 0)) {
        diags.error(node.location_of("slow_ms"), node.path_of("slow_ms"), "must be 0 (off) or more");
    }
    if (node.has("quorum")) {
        auto text = node.get_string("quorum");
        if (auto q = Quorum::parse(text)) {
            base.quorum = *q;
        } else {
            diags.error(node.location_of("quorum"), node.path_of("quorum"),
                        fmt::format("must be majority, all, any or a number from 1, got \"{}\"", text));
        }
    }
    return base;
}

}  // namespace

const std::span<const Bound<Config>> kBound{kBoundOptions};
const std::span<const Bound<StateRules>> kBoundStateRules{kRulesBound};
const std::span<const Bound<RollupConfig>> kBoundRollupConfig{kRollupsBound};

std::optional<Config> parse_config(const ConfigNode& node, const std::string& instance, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    c.application_name = "vigil-" + instance;
    c.url = pg::connection_url(node, diags);
    load_bound(kBound, node, c, diags);
    auto table_ok = [](const std::string& t) {
        return !t.empty() && t.find('\0') == std::string::npos && t.size() < 128;
    };
    if (!table_ok(c.table)) {
        diags.error(node.location_of("table"), node.path_of("table"), "must be a table name");
    }
    if (!table_ok(c.dead_letter_table) || c.dead_letter_table == c.table) {
        diags.error(node.location_of("dead_letter_table"), node.path_of("dead_letter_table"),
                    "must be a table name other than `table`");
    }
    for (Field f = 0; f < kFieldCount; ++f) {
        c.columns.emplace_back(f, std::string(field_name(f)));
    }
    std::set<std::string> taken;
    for (const auto& [field, column] : node.get_string_map("columns")) {
        Field f;
        if (!field_by_name(field, f)) {
            std::string known;
            for (std::size_t i = 0; i < kFieldCount; ++i) {
                known += (i ? ", " : "") + std::string(field_name(i));
            }
            diags.error(node.location_of_entry("columns", field), node.path_of("columns") + "." + field,
                        fmt::format("the record has no field \"{}\"; fields: {}", field, known));
            continue;
        }
        if (column.empty()) {
            diags.error(node.location_of_entry("columns", field), node.path_of("columns") + "." + field,
                        "names no column");
            continue;
        }
        c.columns[f].second = column;
    }
    for (const auto& [f, column] : c.columns) {
        if (!taken.insert(column).second) {
            diags.error(node.location_of("columns"), node.path_of("columns"),
                        fmt::format("two fields are written to column \"{}\"", column));
        }
    }
    c.migrations = pg::migrations_options(node, diags);
    if (node.has("state")) {
        c.state.enabled = true;
        auto state = node.child("state");
        c.state.defaults = parse_rules(state, StateRules{}, diags);
        for (const auto& site : state.items("sites")) {
            auto match = site.get_string("match");
            if (match.empty()) {
                diags.error(site.location_of("match"), site.path_of("match"), "must name a site or a glob");
            }
            c.state.sites.push_back({match, parse_rules(site, c.state.defaults, diags)});
        }
    }
    if (node.has("rollups")) {
        c.rollups.enabled = true;
        load_bound(kBoundRollupConfig, node.child("rollups"), c.rollups, diags);
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::pg_sink
