// SPDX-License-Identifier: Apache-2.0
#include "webhook_sink_config.hpp"

#include <filesystem>

#include <fmt/core.h>

namespace vigil::plugins::webhook_sink {

namespace {
const char* const kFormats[] = {"json", "slack", nullptr};
}  // namespace

const OptionSpec kOptions[] = {
    {.key = "url",
     .type = OptionType::Secret,
     .required = true,
     .description = "Where each event is POSTed (http:// or https://); a secret, since webhook URLs often "
                    "carry a token; or url_file naming a file that holds it"},
    {.key = "secret",
     .type = OptionType::Secret,
     .description = "HMAC-SHA256 key: each POST carries X-Vigil-Signature: sha256=<hex of the HMAC of the "
                    "body>; use secret_file naming a file that holds it. Unset: unsigned"},
    {.key = "format",
     .type = OptionType::String,
     .default_value = "json",
     .one_of = kFormats,
     .description = "json: the event as its JSON object; slack: a Slack-compatible {\"text\": ...} message"},
    {.key = "headers",
     .type = OptionType::StringMap,
     .description = "Extra request headers (Authorization: Bearer ...)"},
    {.key = "timeout",
     .type = OptionType::Duration,
     .default_value = "10s",
     .description = "Limit for each POST, connect included"},
    {.key = "ca_file",
     .type = OptionType::String,
     .default_value = "",
     .description = "CA bundle for an https receiver; default: the system's"},
    {},
};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    c.url = node.get_secret("url");
    const auto& url = c.url.reveal();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        diags.error(node.location_of("url"), node.path_of("url"), "must be an http:// or https:// URL");
    }
    c.secret = node.get_secret("secret");
    c.format = node.get_string("format") == "slack" ? Format::Slack : Format::Json;
    for (const auto& [name, value] : node.get_string_map("headers")) {
        bool bad = name.empty() || name.find_first_of(": \r\n") != std::string::npos ||
                   value.find_first_of("\r\n") != std::string::npos;
        if (bad) {
            diags.error(node.location_of_entry("headers", name), node.path_of("headers") + "." + name,
                        "is not a header (a name without ':' or spaces, a value on one line)");
        }
        c.headers.emplace_back(name, value);
    }
    c.timeout = node.get_duration("timeout");
    if (c.timeout < std::chrono::milliseconds(100)) {
        diags.error(node.location_of("timeout"), node.path_of("timeout"), "must be 100ms or more");
    }
    c.ca_file = node.get_string("ca_file");
    if (!c.ca_file.empty()) {
        c.ca_file = node.resolve_path(c.ca_file).string();
        if (!std::filesystem::is_regular_file(c.ca_file)) {
            diags.error(node.location_of("ca_file"), node.path_of("ca_file"),
                        fmt::format("\"{}\" is not a file", c.ca_file));
        }
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::webhook_sink
