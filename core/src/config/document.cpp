// SPDX-License-Identifier: Apache-2.0
// The parsed pipeline file: loading (file or string), marks to locations, binding a node to its
// option table, and the lookups validate.cpp and ConfigNode share.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "config/document.hpp"

namespace vigil::config {

SourceLocation locate(const detail::Document& doc, const YAML::Mark& mark, const SourceLocation& fallback) {
    if (mark.is_null() || mark.line < 0) {
        return fallback.file.empty() ? SourceLocation{doc.file, 0, 0} : fallback;
    }
    return {doc.file, mark.line + 1 + doc.line_offset, mark.column + 1 + (mark.line == 0 ? doc.column_offset : 0)};
}

std::shared_ptr<const detail::Document> load_string(const std::string& text, std::string name,
                                                    std::filesystem::path base_dir, Environment env, Diagnostics& diags,
                                                    bool data) {
    auto doc = std::make_shared<detail::Document>();
    doc->data = data;
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

std::shared_ptr<const detail::Document> load_file(const std::filesystem::path& path, Environment env,
                                                  Diagnostics& diags) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diags.error({path.string(), 0, 0}, {}, fmt::format("cannot read file: {}", std::strerror(errno)));
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto base = std::filesystem::absolute(path).parent_path();
    return load_string(text.str(), path.string(), base, std::move(env), diags);
}

void set_node(detail::ConfigNodeImpl& impl, const YAML::Node& node) {
    impl.node = node;
    impl.index = nullptr;
    if (!node.IsMap()) {
        return;
    }
    auto index = std::make_shared<detail::KeyIndex>();
    index->keys.reserve(node.size());
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar()) {
            index->keys.push_back({it->first.Scalar(), it->first, it->second});
            index->sorted.push_back(static_cast<std::uint32_t>(index->sorted.size()));
        }
    }
    const auto& keys = index->keys;
    std::stable_sort(index->sorted.begin(), index->sorted.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return keys[a].key < keys[b].key; });
    impl.index = std::move(index);
}

ConfigNode root_node(std::shared_ptr<const detail::Document> doc, const OptionSpec* table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    set_node(*impl, doc->root);
    impl->present = doc->root.IsDefined() && !doc->root.IsNull();
    impl->location = locate(*doc, doc->root.Mark(), {doc->file, 1, 1});
    impl->table = table;
    impl->doc = std::move(doc);
    return ConfigNode(std::move(impl));
}

ConfigNode rebind(const ConfigNode& node, const OptionSpec* table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>(node.impl());
    impl->table = table;
    impl->table_owner = nullptr;
    return ConfigNode(std::move(impl));
}

ConfigNode rebind(const ConfigNode& node, std::shared_ptr<const std::vector<OptionSpec>> table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>(node.impl());
    impl->table = table->data();
    impl->table_owner = std::move(table);
    return ConfigNode(std::move(impl));
}

std::string join_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::optional<Entry> find_entry(const detail::ConfigNodeImpl& impl, std::string_view key) {
    if (!impl.present || !impl.index) {
        return std::nullopt;
    }
    const auto& index = *impl.index;
    auto it = std::lower_bound(index.sorted.begin(), index.sorted.end(), key,
                               [&](std::uint32_t k, std::string_view want) { return index.keys[k].key < want; });
    if (it == index.sorted.end() || index.keys[*it].key != key) {
        return std::nullopt;
    }
    const auto& found = index.keys[*it];
    return Entry{found.value, locate(*impl.doc, found.value.Mark(), locate(*impl.doc, found.key_node.Mark()))};
}

ConfigNode raw_child(const ConfigNode& parent, std::string_view key) {
    const auto& p = parent.impl();
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = p.doc;
    impl->path = join_path(p.path, key);
    impl->location = p.location;
    if (auto entry = find_entry(p, key)) {
        set_node(*impl, entry->value);
        impl->present = !entry->value.IsNull();
        impl->location = entry->location;
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
        set_node(*impl, static_cast<const YAML::Node&>(item));
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

std::optional<std::string> scalar_text(const detail::Document& doc, const YAML::Node& value, std::string& error) {
    if (!value.IsScalar()) {
        error = value.IsNull() ? "expected a value, got null"
                               : (value.IsMap() ? "expected a scalar, got a map" : "expected a scalar, got a list");
        return std::nullopt;
    }
    if (doc.data) {
        return value.Scalar();
    }
    return interpolate(value.Scalar(), doc.env, error);
}

}  // namespace vigil::config
