// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace vigil::cli {

/// Parses the command line and runs the agent; returns the process exit code.
int run(int argc, char** argv);

}  // namespace vigil::cli
