// SPDX-License-Identifier: Apache-2.0
#include "secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::config {

std::optional<std::string> read_secret_file(const std::filesystem::path& base_dir, const std::string& path,
                                            std::string& error) {
    std::filesystem::path p(path);
    if (p.is_relative()) {
        p = base_dir / p;
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        error = "cannot read secret file \"" + p.string() + "\": " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string s = buf.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    if (s.empty()) {
        error = "secret file \"" + p.string() + "\" is empty";
        return std::nullopt;
    }
    return s;
}

}  // namespace vigil::config
