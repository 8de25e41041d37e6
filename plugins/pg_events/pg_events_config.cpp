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

std::optional<Config> parse_config(const ConfigNode& node, const std::string& instance, const std::string& pipeline,
                                   Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    c.application_name = "vigil-" + instance;
    c.url = pg::connection_url(node, diags);
    c.cursor = node.get_string("cursor");
    if (c.cursor.empty()) {
        c.cursor = pipeline;
    }
    if (c.cursor.empty() || c.cursor.size() > 200 || c.cursor.find('\0') != std::string::npos) {
        diags.error(node.location_of("cursor"), node.path_of("cursor"), "must be a name of 1 to 200 characters");
    }
    c.from_beginning = node.get_string("start") == "beginning";
    auto batch = node.get_int("batch_size");
    if (batch < 1 || batch > 10000) {
        diags.error(node.location_of("batch_size"), node.path_of("batch_size"), "must be between 1 and 10000");
    }
    c.batch_size = static_cast<std::size_t>(std::clamp<std::int64_t>(batch, 1, 10000));
    c.poll_interval = node.get_duration("poll_interval");
    if (c.poll_interval < std::chrono::milliseconds(10)) {
        diags.error(node.location_of("poll_interval"), node.path_of("poll_interval"), "must be 10ms or more");
    }
    c.refresh = node.get_duration("refresh");
    if (c.refresh.count() != 0 && c.refresh < std::chrono::seconds(1)) {
        diags.error(node.location_of("refresh"), node.path_of("refresh"), "must be 0 (never) or 1s or more");
    }
    c.migrations = pg::migrations_options(node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::pg_events
