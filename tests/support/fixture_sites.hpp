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
    std::string ca_file;  // trusts the fixture's CA, which signed every certificate below
    // TLS sites: mutual TLS (client_cert/client_key are accepted), a certificate that expired
    // yesterday, one that ends in 2 days; nghttpd (HTTP/2 only; 0 without nghttp2-server).
    int mtls = 0, expired = 0, expiring = 0, h2 = 0;
    std::string client_cert, client_key;
    int proxy = 0;  // a forward proxy keeping what it forwards (GET /proxied on it lists it)
    int pair = 0;   // 127.0.0.1:pair serves the routes, 127.0.0.2:pair answers 503
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(http) + path; }
    std::string tls(const std::string& path) const { return "https://localhost:" + std::to_string(https) + path; }
    std::string tls_on(int port, const std::string& path) const {
        return "https://localhost:" + std::to_string(port) + path;
    }

  private:
    std::unique_ptr<Child> child_;
};

}  // namespace vigil::test
