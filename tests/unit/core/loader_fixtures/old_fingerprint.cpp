// SPDX-License-Identifier: Apache-2.0
// A valid plugin built when the fingerprint also named RapidJSON, yaml-cpp and spdlog (ABI 1.4
// and earlier), at versions this agent does not have: it must load, those types never cross.
#include "vigil/plugin.hpp"

namespace {
std::unique_ptr<vigil::Sink> make(const vigil::PluginContext&, const vigil::ConfigNode&, vigil::Diagnostics&) {
    return nullptr;
}
const vigil::OptionSpec kNone[] = {{}};
const vigil::PluginDescriptor* entry() {
    static vigil::PluginDescriptor d = [] {
        vigil::PluginDescriptor x;
        x.header = {vigil::kPluginMagic, vigil::kSdkAbiMajor, vigil::kSdkAbiMinor, sizeof(vigil::PluginDescriptor),
                    VIGIL_BUILD_FINGERPRINT "/yaml-cpp=0.0.1/spdlog=0.1/rapidjson=0.0.1"};
        x.name = "old_fingerprint";
        x.kind = vigil::PluginKind::Sink;
        x.version = "0.0.1";
        x.options = kNone;
        x.make_sink = &make;
        return x;
    }();
    return &d;
}
}  // namespace
BOOST_DLL_ALIAS_SECTIONED(entry, vigil_plugin_v1, vigil)
