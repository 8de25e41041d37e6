// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <exception>

#include "app/app.hpp"
#include "app/signals.hpp"
#include "cli/cli.hpp"

int main(int argc, char** argv) {
    // Before any thread exists, so every thread inherits the mask and only the signal thread
    // receives SIGINT/SIGTERM/SIGHUP.
    vigil::app::block_signals();
    try {
        return vigil::cli::run(argc, argv);
    } catch (const std::exception& e) {
        // Nothing should reach here (errors are Status values); if something does, say what
        // rather than let std::terminate abort with a core dump.
        std::fprintf(stderr, "agent: internal error: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "agent: internal error: an unknown exception\n");
    }
    return vigil::app::kExitSoftware;
}
