// SPDX-License-Identifier: Apache-2.0
#include "fixture_sites.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

namespace vigil::test {

FixtureSites::FixtureSites() {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/python3", (source_dir() / "scripts/fixture-sites").string()});
    REQUIRE(wait_until([&] { return child_->out().find('\n') != std::string::npos; }, std::chrono::seconds(20)));
    rapidjson::Document d;
    d.Parse(child_->out().c_str());
    REQUIRE(d.IsObject());
    http = d["http"].GetInt();
    https = d["https"].GetInt();
    refused = d["refused"].GetInt();
    ca_file = d["ca_file"].GetString();
    mtls = d["mtls"].GetInt();
    expired = d["expired"].GetInt();
    expiring = d["expiring"].GetInt();
    h2 = d["h2"].IsInt() ? d["h2"].GetInt() : 0;
    client_cert = d["client_cert"].GetString();
    client_key = d["client_key"].GetString();
    proxy = d["proxy"].GetInt();
    pair = d["pair"].GetInt();
}

}  // namespace vigil::test
