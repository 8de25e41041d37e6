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
    http::kTimeoutOption,
    http::kCaFileOption,
    {},
};

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::url>("url"),
    bind<&Config::secret>("secret"),
    bind<&Config::format>("format"),
    bind<&Config::headers>("headers"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    auto before = diags.error_count();
    Config c;
    load_bound(kBound, node, c, diags);
    const auto& url = c.url.reveal();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        diags.error(node.location_of("url"), node.path_of("url"), "must be an http:// or https:// URL");
    }
    for (const auto& [name, value] : c.headers) {
        bool bad = name.empty() || name.find_first_of(": \r\n") != std::string::npos ||
                   value.find_first_of("\r\n") != std::string::npos;
        if (bad) {
            diags.error(node.location_of_entry("headers", name), node.path_of("headers") + "." + name,
                        "is not a header (a name without ':' or spaces, a value on one line)");
        }
    }
    c.http = http::post_options(node, diags);
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::webhook_sink
