// SPDX-License-Identifier: Apache-2.0
#include "app/signals.hpp"
#include "cli/cli.hpp"

int main(int argc, char** argv) {
    // Before any thread exists, so every thread inherits the mask and only the signal thread
    // receives SIGINT/SIGTERM/SIGHUP.
    vigil::app::block_signals();
    return vigil::cli::main(argc, argv);
}
