// SPDX-License-Identifier: Apache-2.0
// The parsed pipeline file: loading (file or string), marks to locations, binding a node to its
// option table, and the lookups validate.cpp and ConfigNode share.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "config/document.hpp"

namespace vigil::config {

SourceLocation locate(const detail::Document& doc, const Value& value, const SourceLocation& fallback) {
    if (value.line() == 0) {
        return fallback.file.empty() ? SourceLocation{doc.file(), 0, 0} : fallback;
    }
    return {doc.file(), static_cast<int>(value.line()), static_cast<int>(value.column())};
}

std::shared_ptr<const detail::Document> load_string(const std::string& text, std::string name,
                                                    std::filesystem::path base_dir, Environment env, Diagnostics& diags,
                                                    bool data) {
    auto doc = std::make_shared<detail::Document>();
    doc->source = std::make_shared<const detail::Source>(
        detail::Source{std::move(name), std::move(base_dir), std::move(env), data});
    try {
        doc->tree = from_yaml(YAML::Load(text), text.size());
    } catch (const TooLarge& e) {
        diags.error({doc->file(), static_cast<int>(e.line), static_cast<int>(e.column)}, {},
                    "invalid YAML: " + e.reason);
        return nullptr;
    } catch (const YAML::Exception& e) {
        int line = e.mark.is_null() || e.mark.line < 0 ? 0 : e.mark.line + 1;
        int column = line == 0 ? 0 : e.mark.column + 1;
        diags.error({doc->file(), line, column}, {}, "invalid YAML: " + e.msg);
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

ConfigNode root_node(std::shared_ptr<const detail::Document> doc, const OptionSpec* table) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    auto root = doc->tree.root();
    impl->node = root;
    impl->present = root.defined() && !root.is_null();
    impl->location = locate(*doc, root, {doc->file(), 1, 1});
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
    if (!impl.present) {
        return std::nullopt;
    }
    auto found = impl.node.find(key);
    if (!found) {
        return std::nullopt;
    }
    auto [k, value] = *found;
    return Entry{value, locate(*impl.doc, value, locate(*impl.doc, k))};
}

ConfigNode raw_child(const ConfigNode& parent, std::string_view key) {
    const auto& p = parent.impl();
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = p.doc;
    impl->path = join_path(p.path, key);
    impl->location = p.location;
    if (auto entry = find_entry(p, key)) {
        impl->node = entry->value;
        impl->present = !entry->value.is_null();
        impl->location = entry->location;
    }
    return ConfigNode(std::move(impl));
}

std::vector<ConfigNode> raw_items(const ConfigNode& parent, std::string_view key) {
    std::vector<ConfigNode> out;
    auto list = raw_child(parent, key);
    const auto& l = list.impl();
    if (!l.present || !l.node.is_sequence()) {
        return out;
    }
    std::size_t i = 0;
    for (auto item : l.node.items()) {
        auto impl = std::make_shared<detail::ConfigNodeImpl>();
        impl->doc = l.doc;
        impl->node = item;
        impl->present = true;
        impl->path = fmt::format("{}[{}]", l.path, i++);
        impl->location = locate(*l.doc, item, l.location);
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

std::optional<std::string> scalar_text(const detail::Document& doc, const Value& value, std::string& error) {
    if (!value.is_scalar()) {
        error = !value.defined() || value.is_null()
                    ? "expected a value, got null"
                    : (value.is_map() ? "expected a scalar, got a map" : "expected a scalar, got a list");
        return std::nullopt;
    }
    if (doc.source->data) {
        return std::string(value.scalar());
    }
    return interpolate(value.scalar(), doc.source->env, error);
}

}  // namespace vigil::config
