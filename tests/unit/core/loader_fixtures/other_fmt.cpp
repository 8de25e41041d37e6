// SPDX-License-Identifier: Apache-2.0
// A plugin identical to the agent's build but for fmt, whose inline code log.hpp compiles into
// the plugin: refused.
#include <string>

#include "vigil/plugin.hpp"

namespace {
std::unique_ptr<vigil::Sink> make(const vigil::PluginContext&, const vigil::ConfigNode&, vigil::Diagnostics&) {
    return nullptr;
}
const vigil::OptionSpec kNone[] = {{}};
const vigil::PluginDescriptor* entry() {
    static const std::string fp = [] {
        std::string s = VIGIL_BUILD_FINGERPRINT;
        return s.substr(0, s.find("/fmt=")) + "/fmt=1";
    }();
    static vigil::PluginDescriptor d = [] {
        vigil::PluginDescriptor x;
        x.header = {vigil::kPluginMagic, vigil::kSdkAbiMajor, vigil::kSdkAbiMinor, sizeof(vigil::PluginDescriptor),
                    fp.c_str()};
        x.name = "other_fmt";
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
