// SPDX-License-Identifier: Apache-2.0
#include "run_check.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <fmt/core.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

#include "http_check.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

namespace vigil::test {

using plugins::http_check::HttpCheck;

FixtureSites& fixture() {
    static FixtureSites f;
    return f;
}

std::vector<CheckRecord> check_all(const std::string& yaml) {
    auto s = check_section(yaml, plugins::http_check::kOptions, PluginKind::Source);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto config = plugins::http_check::parse_config(s->node, s->diags);
    INFO(s->errors());
    REQUIRE(config);
    static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    REQUIRE(curl_ready);
    HttpCheck check(std::move(*config), "http_check.0", "probe", Logger("http_check.0"));
    Capture capture;
    NeverStop stop;
    REQUIRE(check.run(capture, stop, RunOptions{true}).ok());
    return capture.all();
}

std::map<std::string, CheckRecord> check_once(const std::string& yaml) {
    std::map<std::string, CheckRecord> m;
    for (auto& r : check_all(yaml)) {
        m[r.name] = std::move(r);
    }
    return m;
}

std::string site(const std::string& name, const std::string& url, const std::string& extra) {
    return "  - {name: " + name + ", url: \"" + url + "\"" + (extra.empty() ? "" : ", " + extra) + "}\n";
}

std::vector<Received> received(const std::string& name) {
    auto page = run({"/usr/bin/curl", "-sS", fixture().url("/received/" + name)});
    rapidjson::Document d;
    d.Parse(page.out.c_str());
    std::vector<Received> out;
    if (!d.IsArray()) {
        return out;
    }
    for (const auto& r : d.GetArray()) {
        Received one{r["method"].GetString(), r["body"].GetString(), r["path"].GetString(), {}};
        for (const auto& h : r["headers"].GetObject()) {
            std::string key = h.name.GetString();
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
            one.headers[key] = h.value.GetString();
        }
        out.push_back(std::move(one));
    }
    return out;
}

std::string escape(const std::string& url) {
    std::string out;
    for (unsigned char c : url) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace vigil::test
