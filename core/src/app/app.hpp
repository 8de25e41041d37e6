// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigil::app {

/// Exit codes (documented in the README and relied on by the systemd unit's
/// RestartPreventExitStatus=78).
enum ExitCode : int {
    kExitOk = 0,
    kExitRuntime = 1,    // a source failed, records undelivered after --once, healthcheck failed
    kExitUsage = 64,     // EX_USAGE: bad command line
    kExitSoftware = 70,  // EX_SOFTWARE: an internal error
    kExitConfig = 78,    // EX_CONFIG: the pipeline file or a plugin is wrong; restarting won't help
};

struct Options {
    std::filesystem::path pipeline;
    bool check_config = false;
    bool with_environment = false;
    bool list_plugins = false;
    bool once = false;
    std::vector<std::filesystem::path> plugin_dirs;
    std::optional<std::string> log_level;
    std::optional<std::string> log_format;
};

int run(const Options& options);

/// `agent COMMAND ARGS... --pipeline FILE`: loads and validates the pipeline file and runs the
/// command that one of its plugins offers (PluginCommand), with that plugin's section.
int run_command(const Options& options, const std::string& command, const std::vector<std::string>& args);

}  // namespace vigil::app
