// SPDX-License-Identifier: Apache-2.0
// An ordinary shared object with a static constructor that leaves a trace. The loader must
// refuse it without running that constructor (it reads the ELF file, not dlopen).
#include <cstdio>
#include <cstdlib>

namespace {
struct Trace {
    Trace() {
        if (const char* path = std::getenv("VIGIL_TEST_CONSTRUCTOR_MARK")) {
            if (std::FILE* f = std::fopen(path, "w")) {
                std::fputs("constructor ran\n", f);
                std::fclose(f);
            }
        }
    }
} trace;
}  // namespace

extern "C" __attribute__((visibility("default"))) int not_a_plugin_function() { return 42; }
