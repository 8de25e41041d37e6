// SPDX-License-Identifier: Apache-2.0
// A plugin whose build fingerprint differs (another compiler, another yaml-cpp...).
#include "vigil/plugin.hpp"

namespace {
const vigil::PluginDescriptor* entry() {
    static vigil::PluginDescriptor d = [] {
        vigil::PluginDescriptor x;
        x.header = {vigil::kPluginMagic, vigil::kSdkAbiMajor, vigil::kSdkAbiMinor, sizeof(vigil::PluginDescriptor),
                    "gcc-99/c++202002L/cxx11abi=1/boost=0"};
        x.name = "wrong_fingerprint";
        x.kind = vigil::PluginKind::Sink;
        x.version = "0.0.1";
        return x;
    }();
    return &d;
}
}  // namespace
BOOST_DLL_ALIAS_SECTIONED(entry, vigil_plugin_v1, vigil)
