// SPDX-License-Identifier: Apache-2.0
#include "pg_events_config.hpp"

#include <fmt/core.h>

#include "pg_connection.hpp"
#include "pg_url.hpp"

namespace vigil::plugins::pg_events {

namespace {
const char* const kStarts[] = {"end", "beginning", nullptr};
}  // namespace

const OptionSpec kOptions[] = {
    {.key = "url",
     .type = OptionType::Secret,
     .description = "libpq connection URL of the database pg_sink keeps state in; default: $DATABASE_URL; or "
                    "url_file naming a file that holds it"},
    {.key = "cursor",
     .type = OptionType::String,
     .default_value = "",
     .description = "Name of this reader's position in site_events_cursors; default: the pipeline's name. "
                    "Readers with one name share a position, and one of them reads at a time"},
    {.key = "start",
     .type = OptionType::String,
     .default_value = "end",
     .one_of = kStarts,
     .description = "Where a cursor that does not exist yet starts: after the last event (end), or at the "
                    "first (beginning)"},
    {.key = "batch_size", .type = OptionType::Int, .default_value = "100", .description = "Events per batch at most"},
    {.key = "poll_interval",
     .type = OptionType::Duration,
     .default_value = "5s",
     .description = "Reads this often even without a notification (LISTEN wakes the reader at each COMMIT)"},
    {.key = "refresh",
     .type = OptionType::Duration,
     .default_value = "1m",
     .description = "Sends the current state of every site that is not up this often (and at start), for "
                    "sinks that re-post what lasts (Alertmanager); 0: never"},
    pg::kMigrateOption,
    pg::kMigrationsDirOption,
    {},
};

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::cursor>("cursor"),
    bind<&Config::batch_size>("batch_size", {.min = 1, .max = 10000}),
    bind<&Config::poll_interval>("poll_interval", {.at_least = std::chrono::milliseconds(10)}),
    bind<&Config::refresh>("refresh", {.at_least = std::chrono::seconds(1), .zero_is_off = true}),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, const std::string& instance, const std::string& pipeline,
                                   Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    c.application_name = "vigil-" + instance;
    c.url = pg::connection_url(node, diags);
    load_bound(kBound, node, c, diags);
    if (c.cursor.empty()) {
        c.cursor = pipeline;
    }
    if (c.cursor.empty() || c.cursor.size() > 200 || c.cursor.find('\0') != std::string::npos) {
        diags.error(node.location_of("cursor"), node.path_of("cursor"), "must be a name of 1 to 200 characters");
    }
    c.from_beginning = node.get_string("start") == "beginning";
    c.migrations = pg::migrations_options(node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::pg_events
