// SPDX-License-Identifier: Apache-2.0
// The parsed pipeline file behind every ConfigNode, and the functions the core uses to load,
// bind and validate it. Internal to the agent and the SDK library; plugins see only ConfigNode.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <cstdint>
#include <string>
#include <vector>

#include "config/interpolate.hpp"
#include "config/tree.hpp"
#include "vigil/config.hpp"

namespace vigil::detail {

// What every document read from one text shares: a site list's elements each get a Document of
// their own (so a site's node never holds the whole list), not a copy of the environment each.
struct Source {
    std::string file;  // as the user named it, for messages
    std::filesystem::path base_dir;
    config::Environment env;
    // Someone else's text (a Kafka message), not the operator's: its values are taken literally
    // (no ${VAR} from the agent's environment) and it may name no file for the agent to read.
    bool data = false;
};

struct Document {
    std::shared_ptr<const Source> source;
    config::Tree tree;  // Values point into it: a Document does not move once built
    const std::string& file() const { return source->file; }
};

struct ConfigNodeImpl {
    std::shared_ptr<const Document> doc;
    config::Value node;  // the map; unused when !present
    bool present = false;
    std::string path;
    SourceLocation location;
    const OptionSpec* table = nullptr;
    // Keeps `table` alive when it is built at run time (a pipeline section's reserved + plugin
    // keys) rather than a plugin's static array: a plugin may keep its node after a reload.
    std::shared_ptr<const void> table_owner;
};

}  // namespace vigil::detail

namespace vigil::config {

/// Where `value` is in its document's file; `fallback` when the value has no place (a null).
SourceLocation locate(const detail::Document& doc, const Value& value, const SourceLocation& fallback = {});

/// Reads and parses a YAML file. On an I/O or syntax error returns nullptr and records one
/// located diagnostic.
std::shared_ptr<const detail::Document> load_file(const std::filesystem::path& path, Environment env,
                                                  Diagnostics& diags);
std::shared_ptr<const detail::Document> load_string(const std::string& text, std::string name,
                                                    std::filesystem::path base_dir, Environment env, Diagnostics& diags,
                                                    bool data = false);

/// The document's root map, bound to `table`.
ConfigNode root_node(std::shared_ptr<const detail::Document> doc, const OptionSpec* table);
/// The same node bound to another table (a plugin section bound to the plugin's options).
ConfigNode rebind(const ConfigNode& node, const OptionSpec* table);
/// Same, for a table built at run time: the node shares ownership of it.
ConfigNode rebind(const ConfigNode& node, std::shared_ptr<const std::vector<OptionSpec>> table);
/// A child by key, free-form (no table).
ConfigNode raw_child(const ConfigNode& node, std::string_view key);
/// The maps of a sequence by key, free-form.
std::vector<ConfigNode> raw_items(const ConfigNode& node, std::string_view key);

/// Checks `node` against its table, recursively: map shape, duplicate keys, unknown keys (with
/// the nearest suggestion and the allowed list), types, one_of, required keys, *_file secrets,
/// and ${VAR} interpolation of every scalar. Records every problem found.
void validate(const ConfigNode& node, Diagnostics& diags);

/// Checks a free-form subtree for duplicate keys and interpolation errors only.
void validate_free_form(const ConfigNode& node, Diagnostics& diags);

/// "parent.key", or "key" at the root: the key path every message prints.
std::string join_path(const std::string& parent, std::string_view key);

/// The value stored under `key` in a node's map, and where it is (the key's place when the value
/// carries no mark, as for `key:` with nothing after it).
struct Entry {
    Value value;
    SourceLocation location;
};
/// nullopt when the key is absent or the node is not a map.
std::optional<Entry> find_entry(const detail::ConfigNodeImpl& impl, std::string_view key);

/// The option named `key` in `table`, or nullptr.
const OptionSpec* find_option(const OptionSpec* table, std::string_view key);

/// The scalar at `value`, interpolated. nullopt with `error` set when the value is not a scalar
/// or interpolation fails.
std::optional<std::string> scalar_text(const detail::Document& doc, const Value& value, std::string& error);

}  // namespace vigil::config

namespace vigil::config {
/// true/True/TRUE and false/False/FALSE (YAML 1.2 core schema); nothing else.
bool parse_bool_text(const std::string& text, bool& out);
}  // namespace vigil::config
