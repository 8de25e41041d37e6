// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as a pipeline file. Loading, ${VAR} interpolation, validation against a
// table with every option type, and the streaming JSON list reader must never crash; a section
// that validates must be readable through every getter without throwing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/document.hpp"
#include "vigil/config.hpp"

namespace {
const char* const kProtocols[] = {"PLAINTEXT", "SASL_SSL", nullptr};
const vigil::OptionSpec kSecurity[] = {
    {.key = "protocol", .type = vigil::OptionType::String, .default_value = "PLAINTEXT", .one_of = kProtocols},
    {.key = "password", .type = vigil::OptionType::Secret},
    {},
};
const vigil::OptionSpec kSite[] = {
    {.key = "name", .type = vigil::OptionType::String, .required = true},
    {.key = "url", .type = vigil::OptionType::String},
    {.key = "interval", .type = vigil::OptionType::Duration, .default_value = "30s"},
    {},
};
const vigil::OptionSpec kTable[] = {
    {.key = "pipeline", .type = vigil::OptionType::String},
    {.key = "count", .type = vigil::OptionType::Int, .default_value = "1"},
    {.key = "ratio", .type = vigil::OptionType::Float, .default_value = "0.5"},
    {.key = "on", .type = vigil::OptionType::Bool, .default_value = "false"},
    {.key = "timeout", .type = vigil::OptionType::Duration, .default_value = "5s"},
    {.key = "max_body", .type = vigil::OptionType::Size, .default_value = "1MiB"},
    {.key = "tags", .type = vigil::OptionType::StringList},
    {.key = "headers", .type = vigil::OptionType::StringMap},
    {.key = "security", .type = vigil::OptionType::Map, .children = kSecurity},
    {.key = "sites", .type = vigil::OptionType::List, .children = kSite},
    {},
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    vigil::Diagnostics diags;
    vigil::config::Environment env = {{"HOME", "/root"}, {"EMPTY", ""}};
    auto doc = vigil::config::load_string(text, "fuzz.yaml", "/nonexistent", env, diags);
    if (doc) {
        auto node = vigil::config::rebind(vigil::config::root_node(doc, nullptr), kTable);
        vigil::config::validate(node, diags);
        if (!diags.has_errors()) {
            (void)node.get_string("pipeline");
            (void)node.get_int("count");
            (void)node.get_float("ratio");
            (void)node.get_bool("on");
            (void)node.get_duration("timeout");
            (void)node.get_size("max_body");
            (void)node.get_string_list("tags");
            (void)node.get_string_map("headers");
            (void)node.child("security").get_string("protocol");
            for (const auto& site : node.items("sites")) {
                (void)site.get_duration("interval");
            }
        }
    }
    vigil::Diagnostics list_diags;
    vigil::for_each_in_list(text, "fuzz.json", "/nonexistent", kSite, list_diags,
                            [](const vigil::ConfigNode& n) { (void)n.get_string("name"); });
    for (const auto& d : diags.entries()) {
        if (d.message.empty()) {
            std::abort();  // every error says something
        }
    }
    return 0;
}
