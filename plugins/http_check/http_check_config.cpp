// SPDX-License-Identifier: Apache-2.0
// The site lists (inline, sites_file, sites_env) read site by site, sharding, and the
// plugin-level options; the sites themselves are read in site_reader.cpp.
#include "http_check_config.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <thread>
#include <set>

#include <fmt/core.h>

#include "site_lists.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::http_check {

std::string origin_of(CURLU* parsed) {
    std::string out;
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(parsed, CURLUPART_HOST, &host, 0);
    curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (scheme != nullptr && host != nullptr && port != nullptr) {
        out = fmt::format("{}://{}:{}", scheme, host, port);
        std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return out;
}

std::string origin_of(const std::string& url) {
    CURLU* u = curl_url();
    std::string out;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
        out = origin_of(u);
    }
    curl_url_cleanup(u);
    return out;
}

namespace {
const Bound<Config> kBoundOptions[] = {
    bind<&Config::location>("location"),
    bind<&Config::max_concurrency>("max_concurrency", {.min = 1, .max = 100000}),
    bind<&Config::workers>("workers", {.min = 0, .max = 256, .why = "0 is one per core"}),
    bind<&Config::batch_size>("batch_size", {.min = 1, .max = 100000}),
    bind<&Config::batch_delay>("batch_delay"),
};
}  // namespace
const std::span<const Bound<Config>> kBound{kBoundOptions};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    std::size_t errors_before = diags.error_count();
    Config c;
    c.plugin = node;
    load_bound(kBound, node, c, diags);
    if (auto problem = label_problem(c.location, 200); problem && !c.location.empty()) {
        diags.error(node.location_of("location"), node.path_of("location"), "the location's name " + *problem);
    }
    if (node.has("sites_topic")) {
        checks::refuse_lists_beside_topic(node, diags);
        c.sites_topic = checks::read_sites_topic(node.child("sites_topic"), "http", kTopicRestricted, diags);
    }
    auto shard = Shard::parse(node.get_string("shard"));
    if (!shard) {
        diags.error(node.location_of("shard"), node.path_of("shard"),
                    fmt::format("\"{}\" is not I/N with 1 <= I <= N, e.g. 2/5", node.get_string("shard")));
    } else {
        c.shard = *shard;
    }
    if (c.workers == 0) {
        c.workers = std::max(1u, std::thread::hardware_concurrency());
    }

    // Sites are read one at a time, straight from each list, so that a long sites_file is never
    // held whole in memory: validated, checked for a duplicate name, turned into a Site, dropped.
    SiteCache cache;
    checks::for_each_site(
        node, kSiteOptions, diags,
        [&](const ConfigNode& entry) {
            auto site = read_site(node, entry, diags, cache);
            if (!site) {
                return;
            }
            ++c.sites_total;
            if (c.shard.keeps(site->name)) {
                c.sites.push_back(std::make_shared<const Site>(std::move(*site)));
            }
        },
        "sites_topic", node.has("sites_topic"));
    if (diags.error_count() > errors_before) {
        return std::nullopt;
    }
    return c;
}

}  // namespace vigil::plugins::http_check
