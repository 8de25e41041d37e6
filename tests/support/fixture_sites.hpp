// SPDX-License-Identifier: Apache-2.0
// scripts/fixture-sites started for a test, on ports the kernel picks.
#pragma once

#include <memory>
#include <string>

#include "support.hpp"

namespace vigil::test {

class FixtureSites {
  public:
    FixtureSites();  // starts the server and waits (20 s at most) for its ports
    int http = 0, https = 0, refused = 0;
    std::string ca_file;  // trusts the self-signed certificate of the HTTPS site
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(http) + path; }
    std::string tls(const std::string& path) const { return "https://localhost:" + std::to_string(https) + path; }

  private:
    std::unique_ptr<Child> child_;
};

}  // namespace vigil::test
