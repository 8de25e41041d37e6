// SPDX-License-Identifier: Apache-2.0
// Reading the alerts the Alertmanager of scripts/services holds, as an operator would (its API).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vigil::test::alertmanager {

/// $ALERTMANAGER_URL; fails the test when unset.
std::string url();

struct HeldAlert {
    std::map<std::string, std::string> labels, annotations;
    std::string starts_at, state;  // state: active, suppressed, unprocessed
    std::string fingerprint;
};

/// The alerts Alertmanager holds now (firing: resolved ones are not listed) whose `site` label
/// is `site`.
std::vector<HeldAlert> alerts_of(const std::string& site);

}  // namespace vigil::test::alertmanager
