// SPDX-License-Identifier: Apache-2.0
#include "../testkit.hpp"

VIGIL_PLUGIN({
    .name = "counting_source",
    .kind = vigil::PluginKind::Source,
    .version = "0.0.1",
    .description = "Test source: emits numbered records",
    .stability = vigil::Stability::Wip,
    .options = vigil::testkit::kCountingSourceOptions,
    .make_source = &vigil::testkit::CountingSource::make,
    .commands = vigil::testkit::kCountingSourceCommands,
})
