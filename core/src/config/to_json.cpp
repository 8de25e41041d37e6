// SPDX-License-Identifier: Apache-2.0
// A validated node written back as JSON, typed by its option table: what a plugin publishes when
// it hands a piece of its configuration to others (http_check's sites topic).
#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/document.hpp"

namespace vigil {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void text(Writer& w, const detail::Document& doc, const config::Value& v) {
    std::string error;
    auto s = config::scalar_text(doc, v, error).value_or("");
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_value(Writer& w, const detail::Document& doc, const OptionSpec* spec, const config::Value& v);

// A map: declared keys typed by `table`, in file order; with no table, every scalar as text.
void write_map(Writer& w, const detail::Document& doc, const OptionSpec* table, const config::Value& map) {
    w.StartObject();
    if (map.is_map()) {
        for (auto [k, v] : map.entries()) {
            auto key = k.scalar();
            w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
            write_value(w, doc, table == nullptr ? nullptr : config::find_option(table, key), v);
        }
    }
    w.EndObject();
}

void write_value(Writer& w, const detail::Document& doc, const OptionSpec* spec, const config::Value& v) {
    if (spec == nullptr) {  // a `*_file` secret, or a free-form map's content
        if (v.is_map()) {
            write_map(w, doc, nullptr, v);
        } else if (v.is_sequence()) {
            w.StartArray();
            for (auto item : v.items()) {
                write_value(w, doc, nullptr, item);
            }
            w.EndArray();
        } else {
            text(w, doc, v);
        }
        return;
    }
    std::string error;
    auto scalar = [&] { return config::scalar_text(doc, v, error).value_or(""); };
    switch (spec->type) {
        case OptionType::Int: {
            auto s = scalar();
            std::int64_t n = 0;
            std::from_chars(s.data(), s.data() + s.size(), n);
            w.Int64(n);
            return;
        }
        case OptionType::Float: {
            auto s = scalar();
            double d = 0;
            std::from_chars(s.data(), s.data() + s.size(), d);
            w.Double(d);
            return;
        }
        case OptionType::Bool: {
            bool b = false;
            config::parse_bool_text(scalar(), b);
            w.Bool(b);
            return;
        }
        case OptionType::StringList:
            w.StartArray();
            for (auto item : v.items()) {
                text(w, doc, item);
            }
            w.EndArray();
            return;
        case OptionType::StringMap: write_map(w, doc, nullptr, v); return;
        case OptionType::Map: write_map(w, doc, spec->children, v); return;
        case OptionType::List:
            w.StartArray();
            for (auto item : v.items()) {
                write_map(w, doc, spec->children, item);
            }
            w.EndArray();
            return;
        case OptionType::String:
        case OptionType::Secret:
        case OptionType::Duration:
        case OptionType::Size: text(w, doc, v); return;
    }
}

}  // namespace

std::string ConfigNode::to_json() const {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    write_map(w, *impl_->doc, impl_->table, impl_->present ? impl_->node : config::Value());
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace vigil
