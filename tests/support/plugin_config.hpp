// SPDX-License-Identifier: Apache-2.0
// Validating a plugin's section without loading the plugin: for its config tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "vigil/plugin.hpp"

namespace vigil::test {

struct CheckedSection {
    ConfigNode node;  // bound to reserved + plugin options
    std::vector<OptionSpec> table;
    Diagnostics diags;
    std::string errors() const { return diags.render(); }
};

/// Parses `yaml` (named `file` in messages) and validates the map at `at` ("" for the root,
/// "source", "sinks[0]") against the core's reserved keys for `kind` plus `options`, exactly as
/// the agent does. `env` replaces the process environment for ${VAR} expansion.
std::unique_ptr<CheckedSection> check_section(const std::string& yaml, const OptionSpec* options, PluginKind kind,
                                              const std::string& at = "", const std::string& file = "test.yaml",
                                              config::Environment env = {});

/// The option keys documented in a README's options table: first-column `key` cells.
std::vector<std::string> readme_option_keys(const std::string& readme_text);

}  // namespace vigil::test
