// SPDX-License-Identifier: Apache-2.0
// A plugin whose factory throws: the agent must report it as a located config error.
#include <stdexcept>

#include "vigil/plugin.hpp"

namespace {
std::unique_ptr<vigil::Sink> make(const vigil::PluginContext&, const vigil::ConfigNode&, vigil::Diagnostics&) {
    throw std::runtime_error("boom");
}
const vigil::OptionSpec kNone[] = {{}};
}  // namespace

VIGIL_PLUGIN({
    .name = "throwing_factory",
    .kind = vigil::PluginKind::Sink,
    .version = "0.0.1",
    .options = kNone,
    .make_sink = &make,
})
