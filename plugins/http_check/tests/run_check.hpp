// SPDX-License-Identifier: Apache-2.0
// What http_check's integration tests share: the fixture sites (started once per process), a
// round of checks run in-process (--once), and what the fixture's /record routes received.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture.hpp"
#include "fixture_sites.hpp"
#include "vigil/record.hpp"
#include "vigil/source.hpp"

namespace vigil::test {

/// The fixture sites of this test process (scripts/fixture-sites), started at first use.
FixtureSites& fixture();

/// Runs one round (--once) of http_check with `yaml` as its section: every record made.
std::vector<CheckRecord> check_all(const std::string& yaml);
/// The same, by site name (a site with several records, ip_mode: all, keeps its last).
std::map<std::string, CheckRecord> check_once(const std::string& yaml);

/// One entry of an inline `sites:` list.
std::string site(const std::string& name, const std::string& url, const std::string& extra = "");

/// What the fixture's /record/<name> received: method, headers and body of each request.
struct Received {
    std::string method, body, path;
    std::map<std::string, std::string> headers;  // lower-case names
};
std::vector<Received> received(const std::string& name);

/// Percent-encodes everything but [A-Za-z0-9._-] (a URL inside a query).
std::string escape(const std::string& url);

}  // namespace vigil::test
