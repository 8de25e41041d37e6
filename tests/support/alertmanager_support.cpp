// SPDX-License-Identifier: Apache-2.0
#include "alertmanager_support.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <cstdlib>

#include "support.hpp"

namespace vigil::test::alertmanager {

std::string url() {
    const char* u = std::getenv("ALERTMANAGER_URL");
    if (u == nullptr || *u == '\0') {
        FAIL("ALERTMANAGER_URL is not set: run eval \"$(scripts/services env)\"");
    }
    return u;
}

std::vector<HeldAlert> alerts_of(const std::string& site) {
    auto r = run(
        {"/usr/bin/curl", "-fsS", "-G", url() + "/api/v2/alerts", "--data-urlencode", "filter=site=\"" + site + "\""});
    INFO(r.err);
    REQUIRE(r.code == 0);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    REQUIRE(doc.IsArray());
    auto strings = [](const rapidjson::Value& obj) {
        std::map<std::string, std::string> out;
        for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
            out[it->name.GetString()] = it->value.IsString() ? it->value.GetString() : "";
        }
        return out;
    };
    std::vector<HeldAlert> out;
    for (const auto& a : doc.GetArray()) {
        HeldAlert h;
        h.labels = strings(a["labels"]);
        h.annotations = strings(a["annotations"]);
        h.starts_at = a["startsAt"].GetString();
        h.state = a["status"]["state"].GetString();
        h.fingerprint = a["fingerprint"].GetString();
        out.push_back(std::move(h));
    }
    return out;
}

}  // namespace vigil::test::alertmanager
