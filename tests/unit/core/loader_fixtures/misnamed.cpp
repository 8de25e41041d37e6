// SPDX-License-Identifier: Apache-2.0
// A valid plugin whose declared name is not its file's stem.
#include "vigil/plugin.hpp"

namespace {
std::unique_ptr<vigil::Sink> make(const vigil::PluginContext&, const vigil::ConfigNode&, vigil::Diagnostics&) {
    return nullptr;
}
const vigil::OptionSpec kNone[] = {{}};
}  // namespace

VIGIL_PLUGIN({
    .name = "something_else",
    .kind = vigil::PluginKind::Sink,
    .version = "0.0.1",
    .options = kNone,
    .make_sink = &make,
})
