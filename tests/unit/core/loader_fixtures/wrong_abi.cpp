// SPDX-License-Identifier: Apache-2.0
// A plugin built for a future ABI major: the loader must refuse it from the header alone.
#include "vigil/plugin.hpp"

namespace {
const vigil::PluginDescriptor* entry() {
    static vigil::PluginDescriptor d = [] {
        vigil::PluginDescriptor x;
        x.header = {vigil::kPluginMagic, static_cast<std::uint16_t>(vigil::kSdkAbiMajor + 1), 0,
                    sizeof(vigil::PluginDescriptor), VIGIL_BUILD_FINGERPRINT};
        x.name = "wrong_abi";
        x.kind = vigil::PluginKind::Sink;
        x.version = "0.0.1";
        return x;
    }();
    return &d;
}
}  // namespace
BOOST_DLL_ALIAS_SECTIONED(entry, vigil_plugin_v1, vigil)
