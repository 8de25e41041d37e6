// SPDX-License-Identifier: Apache-2.0
#include "config/printer.hpp"

#include <algorithm>
#include <cctype>

#include "config/document.hpp"
#include "vigil/redact.hpp"

namespace vigil::config {

bool looks_secret(std::string_view key) {
    std::string k(key);
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* word : {"password", "secret", "token", "credential", "authorization", "cookie", "key"}) {
        if (k.find(word) != std::string::npos) {
            // "key" alone is too broad: ssl.key.location names a file, key_field a field.
            if (std::string_view(word) == "key" &&
                (k.find("location") != std::string::npos || k.find("field") != std::string::npos ||
                 k.find("file") != std::string::npos)) {
                continue;
            }
            return true;
        }
    }
    return false;
}

namespace {

void emit_raw(YAML::Emitter& out, const detail::Document& doc, const Value& node, bool redact) {
    if (node.is_map()) {
        out << YAML::BeginMap;
        for (auto [k, v] : node.entries()) {
            std::string key(k.scalar());
            out << YAML::Key << key << YAML::Value;
            emit_raw(out, doc, v, redact || looks_secret(key));
        }
        out << YAML::EndMap;
    } else if (node.is_sequence()) {
        out << YAML::BeginSeq;
        for (auto item : node.items()) {
            emit_raw(out, doc, item, redact);
        }
        out << YAML::EndSeq;
    } else if (node.is_scalar()) {
        std::string error;
        auto text = scalar_text(doc, node, error);
        // A URL keeps its shape but loses its password and secret query values.
        out << (redact ? std::string(Secret::kRedacted) : redact_url(text.value_or(std::string(node.scalar()))));
    } else {
        out << YAML::Null;
    }
}

}  // namespace

void emit_effective(YAML::Emitter& out, const ConfigNode& node) {
    const auto& impl = node.impl();
    for (const OptionSpec* o = node.table(); o != nullptr && o->key != nullptr; ++o) {
        std::string key = o->key;
        bool present = node.has(key);
        if (o->type == OptionType::Secret) {
            if (present || node.has(key + "_file")) {
                out << YAML::Key << key << YAML::Value << std::string(Secret::kRedacted);
            }
            continue;
        }
        if (!present) {
            if (o->default_value != nullptr) {
                out << YAML::Key << key << YAML::Value << o->default_value;
            }
            continue;
        }
        out << YAML::Key << key << YAML::Value;
        auto raw = raw_child(node, key);
        if (o->type == OptionType::Map && o->children != nullptr) {
            out << YAML::BeginMap;
            emit_effective(out, rebind(raw, o->children));
            out << YAML::EndMap;
        } else if (o->type == OptionType::List && o->children != nullptr) {
            out << YAML::BeginSeq;
            for (auto& item : raw_items(node, key)) {
                out << YAML::BeginMap;
                emit_effective(out, rebind(item, o->children));
                out << YAML::EndMap;
            }
            out << YAML::EndSeq;
        } else {
            emit_raw(out, *impl.doc, raw.impl().node, false);
        }
    }
}

}  // namespace vigil::config
