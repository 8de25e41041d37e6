// SPDX-License-Identifier: Apache-2.0
// Validating a plugin's section without loading the plugin: for its config tests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support.hpp"
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
                                              std::map<std::string, std::string, std::less<>> env = {});

/// The option keys documented in a README's options table: first-column `key` cells.
std::vector<std::string> readme_option_keys(const std::string& readme_text);

/// The test every plugin has: `plugin_dir`/README.md documents each option of `options` and of
/// every nested table (a Map's or a List's children, e.g. kafka's `security`, http_check's
/// `sites`). One CHECK per option, naming it when it fails.
void check_readme_documents(const std::string& plugin_dir, const OptionSpec* options);

/// The other test every plugin has: `plugin_dir`/sample.yaml's section `at` ("source",
/// "sinks[0]") validates against `options` with no diagnostic at all (REQUIREd). Returns the
/// section for the plugin's own parse_config and checks of what the sample sets.
std::unique_ptr<CheckedSection> check_sample(const std::string& plugin_dir, const OptionSpec* options, PluginKind kind,
                                             const std::string& at);

}  // namespace vigil::test
