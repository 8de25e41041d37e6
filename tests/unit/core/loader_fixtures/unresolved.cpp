// SPDX-License-Identifier: Apache-2.0
// A plugin that needs a symbol nothing provides: RTLD_NOW must refuse it at load.
#include "vigil/plugin.hpp"

extern "C" int vigil_test_symbol_nobody_defines(int);

namespace {
std::unique_ptr<vigil::Sink> make(const vigil::PluginContext&, const vigil::ConfigNode&, vigil::Diagnostics&) {
    (void)vigil_test_symbol_nobody_defines(1);
    return nullptr;
}
const vigil::OptionSpec kNone[] = {{}};
}  // namespace

VIGIL_PLUGIN({
    .name = "unresolved",
    .kind = vigil::PluginKind::Sink,
    .version = "0.0.1",
    .options = kNone,
    .make_sink = &make,
})
