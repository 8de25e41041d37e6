// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as the value of a sites-topic message. http_check reads it as data (no
// interpolation, no file named) and as a site with the plugin-level defaults and the strict
// topic policy; every check plugin first asks which kind of site it is (kind_of_message). Nothing
// may crash or throw; a refused message always says why, and a message read as an http site is
// one of the http kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "http_check_config.hpp"
#include "sites_topic_config.hpp"
#include "vigil/config.hpp"

using namespace vigil::plugins::http_check;

namespace {
// The plugin's section as a producer's pipeline file would hold it.
const vigil::ConfigNode& plugin() {
    static const std::optional<vigil::ConfigNode> node = [] {
        std::optional<vigil::ConfigNode> out;
        vigil::Diagnostics diags;
        vigil::for_each_in_list(R"([{"interval": "30s", "timeout": "5s", "bearer_token": "plugin-secret"}])",
                                "producer.yaml", ".", kOptions, diags, [&](const vigil::ConfigNode& n) { out = n; });
        if (!out) {
            std::abort();
        }
        return out;
    }();
    return *node;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string json(reinterpret_cast<const char*>(data), size);
    static const TopicPolicy strict;
    SiteCache cache;
    TopicSite read;
    try {
        read = read_topic_site(plugin(), "shop", json, "sites/0/1", strict, cache);
    } catch (...) {
        std::abort();  // a message is refused with a reason, never thrown out of the reader
    }
    if (!read.site && read.error.empty()) {
        std::abort();
    }
    std::string kind;
    try {
        kind = vigil::checks::kind_of_message(json);
    } catch (...) {
        std::abort();
    }
    // A JSON message http_check would take is of the http kind, so the other plugins pass over it
    // (duplicate "url" keys are refused by the reader, so both read the same url). A message that
    // is not JSON (YAML's flow style) is refused by every plugin before the reader sees it.
    if (read.site && !kind.empty() && kind != "http") {
        std::abort();
    }
    return 0;
}
