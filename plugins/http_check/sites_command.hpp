// SPDX-License-Identifier: Apache-2.0
// `agent sites import FILE | add NAME URL [KEY=VALUE...] | remove NAME... | list --pipeline P`:
// the sites topic edited from the command line. Sites are validated as a site list in a file is
// (a bad entry is a located error and nothing is published), against the producers' pipeline
// file (its plugin-level defaults, its directory for relative paths), then written to the topic.
#pragma once

#include "vigil/plugin.hpp"

namespace vigil::plugins::http_check {

extern const PluginCommand kCommands[];

int sites_command(const CommandContext& ctx, const ConfigNode& section, Diagnostics& diags);

}  // namespace vigil::plugins::http_check
