// SPDX-License-Identifier: Apache-2.0
#include "plugin_config.hpp"

#include <algorithm>
#include <regex>
#include <functional>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "app/pipeline_config.hpp"

namespace vigil::test {

std::unique_ptr<CheckedSection> check_section(const std::string& yaml, const OptionSpec* options, PluginKind kind,
                                              const std::string& at, const std::string& file,
                                              std::map<std::string, std::string, std::less<>> env) {
    auto out = std::make_unique<CheckedSection>();
    auto doc = config::load_string(yaml, file, std::filesystem::current_path(), std::move(env), out->diags);
    if (!doc) {
        return out;
    }
    ConfigNode node = config::root_node(doc, nullptr);
    if (at == "source") {
        node = config::raw_child(node, "source");
    } else if (at.rfind("sinks[", 0) == 0) {
        auto index = std::stoul(at.substr(6));
        auto items = config::raw_items(node, "sinks");
        if (index >= items.size()) {
            out->diags.error("no " + at + " in " + file);
            return out;
        }
        node = items[index];
    }
    const OptionSpec* reserved = kind == PluginKind::Source ? app::kSourceReserved : app::kSinkReserved;
    for (const OptionSpec* o = reserved; o->key != nullptr; ++o) {
        out->table.push_back(*o);
    }
    for (const OptionSpec* o = options; o != nullptr && o->key != nullptr; ++o) {
        out->table.push_back(*o);
    }
    out->table.push_back(OptionSpec{});
    out->node = config::rebind(node, out->table.data());
    config::validate(out->node, out->diags);
    return out;
}

std::vector<std::string> readme_option_keys(const std::string& readme_text) {
    // Rows such as: | `timeout` | duration | `5s` | ... |
    static const std::regex row(R"(^\|\s*`([a-z_][a-z0-9_.]*)`\s*\|)");
    std::vector<std::string> keys;
    std::istringstream in(readme_text);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
            keys.push_back(m[1]);
        }
    }
    return keys;
}

namespace {
void each_option(const OptionSpec* table, std::set<const OptionSpec*>& seen,
                 const std::function<void(const OptionSpec&)>& each) {
    if (table == nullptr || !seen.insert(table).second) {
        return;
    }
    for (const OptionSpec* o = table; o->key != nullptr; ++o) {
        each(*o);
        each_option(o->children, seen, each);
    }
}
}  // namespace

void check_readme_documents(const std::string& plugin_dir, const OptionSpec* options) {
    auto keys = readme_option_keys(read_file(plugin_dir + "/README.md"));
    REQUIRE_FALSE(keys.empty());
    std::set<const OptionSpec*> seen;
    std::size_t checked = 0;
    each_option(options, seen, [&](const OptionSpec& o) {
        INFO("option `" << o.key << "` is not in " << plugin_dir << "/README.md's options tables");
        CHECK(std::find(keys.begin(), keys.end(), o.key) != keys.end());
        ++checked;
    });
    CHECK(checked > 0);
}

std::unique_ptr<CheckedSection> check_sample(const std::string& plugin_dir, const OptionSpec* options, PluginKind kind,
                                             const std::string& at) {
    auto text = read_file(plugin_dir + "/sample.yaml");
    auto s = check_section(text, options, kind, at, "sample.yaml");
    REQUIRE(s->errors() == "");
    return s;
}

}  // namespace vigil::test
