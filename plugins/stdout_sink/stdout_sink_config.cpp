// SPDX-License-Identifier: Apache-2.0
#include "stdout_sink_config.hpp"

#include "vigil/config_map.hpp"

namespace vigil::plugins::stdout_sink {

const OptionSpec kOptions[] = {
    {.key = "path",
     .type = OptionType::String,
     .default_value = "",
     .description = "File to append JSON lines to, relative to the pipeline file; empty writes to "
                    "standard output"},
    {.key = "fsync",
     .type = OptionType::Bool,
     .default_value = "false",
     .description = "fsync(2) the file after each batch, so an acknowledged batch survives a power "
                    "loss (ignored for standard output)"},
    {},
};

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::path>("path"),
    bind<&Config::fsync>("fsync"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    Config c;
    load_bound(kBound, node, c, diags);
    if (!c.path.empty()) {
        if (std::filesystem::is_directory(c.path)) {
            diags.error(node.location_of("path"), node.path_of("path"),
                        "\"" + c.path.string() + "\" is a directory; name a file");
            return std::nullopt;
        }
    }
    return c;
}

}  // namespace vigil::plugins::stdout_sink
