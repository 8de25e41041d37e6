// SPDX-License-Identifier: Apache-2.0
#include "vigil/plugin.hpp"

namespace vigil {

const char* to_string(PluginKind kind) noexcept {
    switch (kind) {
        case PluginKind::Source: return "source";
        case PluginKind::Sink: return "sink";
    }
    return "unknown";
}

const char* to_string(Stability stability) noexcept {
    switch (stability) {
        case Stability::Stable: return "stable";
        case Stability::Alpha: return "alpha";
        case Stability::Wip: return "wip";
    }
    return "unknown";
}

}  // namespace vigil
