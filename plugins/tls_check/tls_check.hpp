// SPDX-License-Identifier: Apache-2.0
// The tls_check source: the prober (prober.hpp) on one thread, run and reloaded by the shared
// check source (lib/checks/check_source.hpp).
#pragma once

#include "check_source.hpp"
#include "tls_check_config.hpp"
#include "prober.hpp"

namespace vigil::plugins::tls_check {

/// Made from the plugin's name, a parsed Config, the instance, the agent's name and a logger.
using TlsCheck = checks::CheckSource<Config, Prober, &parse_config>;

}  // namespace vigil::plugins::tls_check
