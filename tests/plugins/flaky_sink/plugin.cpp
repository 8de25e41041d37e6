// SPDX-License-Identifier: Apache-2.0
#include "../testkit.hpp"

VIGIL_PLUGIN({
    .name = "flaky_sink",
    .kind = vigil::PluginKind::Sink,
    .version = "0.0.1",
    .description = "Test sink: fails, rejects, delays or stalls on demand",
    .stability = vigil::Stability::Wip,
    .options = vigil::testkit::kFlakySinkOptions,
    .make_sink = &vigil::testkit::FlakySink::make,
})
