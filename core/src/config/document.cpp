// SPDX-License-Identifier: Apache-2.0
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "config/document.hpp"

namespace vigil::config {

SourceLocation locate(const detail::Document& doc, const YAML::Mark& mark,
                      const SourceLocation& fallback) {
    if (mark.is_null() || mark.line < 0) {
        return fallback.file.empty() ? SourceLocation{doc.file, 0, 0} : fallback;
    }
    return {doc.file, mark.line + 1, mark.column + 1};
}

std::shared_ptr<const detail::Document> load_string(const std::string& text, std::string name,
                                                    std::filesystem::path base_dir,
                                                    Environment env, Diagnostics& diags) {
    auto doc = std::make_shared<detail::Document>();
    doc->file = std::move(name);
    doc->base_dir = std::move(base_dir);
    doc->env = std::move(env);
    try {
        doc->root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        diags.error(locate(*doc, e.mark), {}, "invalid YAML: " + e.msg);
        return nullptr;
    }
    return doc;
}

std::shared_ptr<const detail::Document> load_file(const std::filesystem::path& path,
                                                  Environment env, Diagnostics& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path.string(), 0, 0}, {},
                    fmt::format("cannot read file: {}", std::strerror(errno)));
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto base = std::filesystem::absolute(path).parent_path();
    return load_string(text.str(), path.string(), base, std::move(env), diags);
}

ConfigNode root_node(std::shared_ptr<const detail::Document> doc, const OptionSpec* table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->node = doc->root;
    impl->present = doc->root.IsDefined() && !doc->root.IsNull();
    impl->location = locate(*doc, doc->root.Mark(), {doc->file, 1, 1});
    impl->table = table;
    impl->doc = std::move(doc);
    return ConfigNode(std::move(impl));
}

ConfigNode rebind(const ConfigNode& node, const OptionSpec* table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>(node.impl());
    impl->table = table;
    return ConfigNode(std::move(impl));
}

namespace {
std::string join_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
}  // namespace

ConfigNode raw_child(const ConfigNode& parent, std::string_view key) {
    const auto& p = parent.impl();
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = p.doc;
    impl->path = join_path(p.path, key);
    impl->location = p.location;
    if (p.present && p.node.IsMap()) {
        const YAML::Node& map = p.node;
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) {
                impl->node = it->second;
                impl->present = !it->second.IsNull();
                impl->location = locate(*p.doc, it->second.Mark(), locate(*p.doc, it->first.Mark()));
                break;
            }
        }
    }
    return ConfigNode(std::move(impl));
}

std::vector<ConfigNode> raw_items(const ConfigNode& parent, std::string_view key) {
    std::vector<ConfigNode> out;
    auto list = raw_child(parent, key);
    const auto& l = list.impl();
    if (!l.present || !l.node.IsSequence()) {
        return out;
    }
    std::size_t i = 0;
    for (const auto& item : l.node) {
        auto impl = std::make_shared<detail::ConfigNodeImpl>();
        impl->doc = l.doc;
        impl->node = static_cast<const YAML::Node&>(item);
        impl->present = true;
        impl->path = fmt::format("{}[{}]", l.path, i++);
        impl->location = locate(*l.doc, item.Mark(), l.location);
        out.emplace_back(std::move(impl));
    }
    return out;
}

const OptionSpec* find_option(const OptionSpec* table, std::string_view key) {
    for (const OptionSpec* o = table; o != nullptr && o->key != nullptr; ++o) {
        if (key == o->key) {
            return o;
        }
    }
    return nullptr;
}

std::optional<std::string> scalar_text(const detail::Document& doc, const YAML::Node& value,
                                       std::string& error) {
    if (!value.IsScalar()) {
        error = value.IsNull() ? "expected a value, got null"
                               : (value.IsMap() ? "expected a scalar, got a map"
                                                : "expected a scalar, got a list");
        return std::nullopt;
    }
    return interpolate(value.Scalar(), doc.env, error);
}

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
    auto distance = [](std::string_view a, std::string_view b) {
        std::vector<std::size_t> row(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j) {
            row[j] = j;
        }
        for (std::size_t i = 1; i <= a.size(); ++i) {
            std::size_t diag = row[0];
            row[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j) {
                std::size_t up = row[j];
                row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
                diag = up;
            }
        }
        return row[b.size()];
    };
    std::optional<std::string> best;
    std::size_t best_d = 0;
    for (const auto& c : candidates) {
        auto d = distance(word, c);
        // About a third of the word's length, 1 to 3 edits: typos, not guesses.
        auto limit = std::clamp<std::size_t>(word.size() / 3, word.size() >= 4 ? 2 : 1, 3);
        if (d <= limit && (!best || d < best_d)) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

}  // namespace vigil::config

namespace vigil {

std::vector<ConfigNode> parse_list(const std::string& text, const std::string& name,
                                   const std::filesystem::path& base_dir, const OptionSpec* table,
                                   Diagnostics& diags) {
    std::vector<ConfigNode> out;
    auto doc = config::load_string(text, name, base_dir, config::snapshot_environment(), diags);
    if (!doc) {
        return out;
    }
    if (!doc->root.IsSequence()) {
        diags.error(config::locate(*doc, doc->root.Mark(), {name, 1, 1}), {},
                    "expected a list of maps, e.g. [{\"name\": \"a\", \"url\": \"https://a.example/\"}]");
        return out;
    }
    auto root = config::root_node(doc, nullptr);
    std::size_t i = 0;
    for (const auto& item : doc->root) {
        auto impl = std::make_shared<detail::ConfigNodeImpl>();
        impl->doc = doc;
        impl->node = static_cast<const YAML::Node&>(item);
        impl->present = true;
        impl->path = fmt::format("[{}]", i++);
        impl->location = config::locate(*doc, item.Mark(), {name, 1, 1});
        impl->table = table;
        ConfigNode node(std::move(impl));
        config::validate(node, diags);
        out.push_back(std::move(node));
    }
    return out;
}

std::vector<ConfigNode> load_list(const std::filesystem::path& file, const OptionSpec* table,
                                  const SourceLocation& where, Diagnostics& diags) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        diags.error(where, {}, fmt::format("cannot read \"{}\": {}", file.string(), std::strerror(errno)));
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_list(text.str(), file.string(), std::filesystem::absolute(file).parent_path(), table, diags);
}

}  // namespace vigil
