// SPDX-License-Identifier: Apache-2.0
// Validation of a map against an option table. Every problem is recorded (never the first only)
// with the file:line:col of the offending key or value.
#include <charconv>
#include <cmath>
#include <fstream>

#include <fmt/core.h>

#include "config/did_you_mean.hpp"
#include "config/document.hpp"
#include "secret_file.hpp"

namespace vigil::config {
namespace {

using detail::Document;

std::string allowed_list(const OptionSpec* table) {
    std::string out;
    std::size_t n = 0;
    for (const OptionSpec* o = table; o != nullptr && o->key != nullptr; ++o, ++n) {
        if (n == 16) {
            return out + ", ...";
        }
        out += (n == 0 ? "" : ", ");
        out += o->key;
    }
    return out;
}

std::vector<std::string> option_names(const OptionSpec* table) {
    std::vector<std::string> names;
    for (const OptionSpec* o = table; o != nullptr && o->key != nullptr; ++o) {
        names.emplace_back(o->key);
        if (o->type == OptionType::Secret) {
            names.emplace_back(std::string(o->key) + "_file");
        }
    }
    return names;
}

bool parse_bool(const std::string& s, bool& out) {
    if (s == "true" || s == "True" || s == "TRUE") {
        out = true;
        return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
        out = false;
        return true;
    }
    return false;
}

class Validator {
  public:
    Validator(const Document& doc, Diagnostics& diags) : doc_(doc), diags_(diags) {}

    void map(Value node, const OptionSpec* table, const std::string& path, const SourceLocation& where) {
        if (!node.is_map()) {
            diags_.error(where, path, node.is_null() ? "expected a map, got nothing" : "expected a map");
            return;
        }
        for (auto [k, v] : node.entries()) {
            auto key_loc = locate(doc_, k, where);
            if (!k.is_scalar()) {
                diags_.error(key_loc, path, "keys must be strings");
                continue;
            }
            std::string_view key = k.scalar();
            if (auto first = node.find_key(key); first != k) {  // find_key gives the first in file order
                diags_.error(key_loc, join_path(path, key),
                             fmt::format("duplicate key \"{}\" (first at {}:{})", key, first.line(), first.column()));
                continue;
            }
            if (table == nullptr) {
                free_form(v, join_path(path, key), key_loc);
                continue;
            }
            const OptionSpec* spec = find_option(table, key);
            if (spec == nullptr && key.size() > 5 && key.ends_with("_file")) {
                const OptionSpec* base = find_option(table, key.substr(0, key.size() - 5));
                if (base != nullptr && base->type == OptionType::Secret) {
                    secret_file(v, join_path(path, key), locate(doc_, v, key_loc));
                    continue;
                }
            }
            if (spec == nullptr) {
                unknown(std::string(key), table, join_path(path, key), key_loc);
                continue;
            }
            value(*spec, v, join_path(path, key), locate(doc_, v, key_loc));
        }
        for (const OptionSpec* o = table; o != nullptr && o->key != nullptr; ++o) {
            if (!o->required && o->type != OptionType::Secret) {
                continue;  // nothing to check; a site list asks this of every option of every site
            }
            bool present = node.find_key(o->key).defined();
            if (o->type == OptionType::Secret) {
                auto file_key = std::string(o->key) + "_file";
                auto via_file = node.find_key(file_key);
                if (present && via_file.defined()) {
                    diags_.error(locate(doc_, via_file, where), join_path(path, file_key),
                                 fmt::format("set \"{0}\" or \"{0}_file\", not both", o->key));
                }
                present = present || via_file.defined();
            }
            if (o->required && !present) {
                diags_.error(where, path, fmt::format("missing required option \"{}\" ({})", o->key, o->description));
            }
        }
    }

  private:
    void unknown(const std::string& key, const OptionSpec* table, const std::string& path,
                 const SourceLocation& where) {
        std::string message = "unknown option";
        if (auto guess = nearest(key, option_names(table))) {
            message += fmt::format("; did you mean \"{}\"?", *guess);
        }
        message += fmt::format(" (allowed: {})", allowed_list(table));
        diags_.error(where, path, message);
    }

    std::optional<std::string> text(const Value& v, const std::string& path, const SourceLocation& where) {
        std::string error;
        auto s = scalar_text(doc_, v, error);
        if (!s) {
            diags_.error(where, path, error);
        }
        return s;
    }

    void secret_file(const Value& v, const std::string& path, const SourceLocation& where) {
        if (doc_.source->data) {
            diags_.error(where, path, "names a file, which a message may not: it is data, not the agent's config");
            return;
        }
        auto s = text(v, path, where);
        if (!s) {
            return;
        }
        std::string error;
        if (!read_secret_file(doc_.source->base_dir, *s, error)) {
            diags_.error(where, path, error);
        }
    }

    void free_form(const Value& v, const std::string& path, const SourceLocation& where) {
        if (v.is_map()) {
            map(v, nullptr, path, where);
        } else if (v.is_sequence()) {
            std::size_t i = 0;
            for (auto item : v.items()) {
                free_form(item, fmt::format("{}[{}]", path, i++), locate(doc_, item, where));
            }
        } else if (v.is_scalar()) {
            text(v, path, where);
        }
    }

    void value(const OptionSpec& spec, const Value& v, const std::string& path, const SourceLocation& where) {
        auto expect = [&](std::string_view what, const std::string& got) {
            diags_.error(where, path, fmt::format("expected {}, got \"{}\"", what, got));
        };
        switch (spec.type) {
            case OptionType::Map:
                if (spec.children == nullptr) {
                    // Validated elsewhere against a table known later (a plugin's section).
                    if (!v.is_map()) {
                        diags_.error(where, path, "expected a map");
                    }
                    return;
                }
                map(v, spec.children, path, where);
                return;
            case OptionType::List: {
                if (!v.is_sequence()) {
                    diags_.error(where, path, "expected a list of maps");
                    return;
                }
                std::size_t i = 0;
                for (auto item : v.items()) {
                    auto item_path = fmt::format("{}[{}]", path, i++);
                    auto item_loc = locate(doc_, item, where);
                    if (spec.children == nullptr) {
                        if (!item.is_map()) {
                            diags_.error(item_loc, item_path, "expected a map");
                        }
                        continue;
                    }
                    map(item, spec.children, item_path, item_loc);
                }
                return;
            }
            case OptionType::StringList: {
                if (!v.is_sequence()) {
                    diags_.error(where, path, "expected a list of strings, e.g. [a, b]");
                    return;
                }
                std::size_t i = 0;
                for (auto item : v.items()) {
                    text(item, fmt::format("{}[{}]", path, i++), locate(doc_, item, where));
                }
                return;
            }
            case OptionType::StringMap: {
                if (!v.is_map()) {
                    diags_.error(where, path, "expected a map of strings");
                    return;
                }
                map(v, nullptr, path, where);
                for (auto [key, item] : v.entries()) {
                    if (!item.is_scalar()) {
                        diags_.error(locate(doc_, item, where), join_path(path, key.scalar()), "expected a string");
                    }
                }
                return;
            }
            default: break;
        }
        auto s = text(v, path, where);
        if (!s) {
            return;
        }
        switch (spec.type) {
            case OptionType::Int: {
                std::int64_t n = 0;
                auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
                if (ec != std::errc() || p != s->data() + s->size()) {
                    expect("an integer", *s);
                }
                break;
            }
            case OptionType::Float: {
                double d = 0;
                auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
                if (ec != std::errc() || p != s->data() + s->size() || !std::isfinite(d)) {
                    expect("a number", *s);
                }
                break;
            }
            case OptionType::Bool: {
                bool b = false;
                if (!parse_bool(*s, b)) {
                    expect("true or false", *s);
                }
                break;
            }
            case OptionType::Duration:
                if (!parse_duration(*s)) {
                    expect("a duration such as 250ms, 10s, 5m or 1h", *s);
                }
                break;
            case OptionType::Size:
                if (!parse_size(*s)) {
                    expect("a size such as 4096, 512KiB or 1MiB", *s);
                }
                break;
            case OptionType::String:
                if (spec.one_of != nullptr) {
                    bool found = false;
                    std::string choices;
                    for (const char* const* c = spec.one_of; *c != nullptr; ++c) {
                        found = found || *s == *c;
                        choices += (choices.empty() ? "" : ", ");
                        choices += *c;
                    }
                    if (!found) {
                        diags_.error(where, path, fmt::format("\"{}\" is not one of: {}", *s, choices));
                    }
                }
                break;
            default: break;
        }
    }

    const Document& doc_;
    Diagnostics& diags_;
};

}  // namespace

bool parse_bool_text(const std::string& s, bool& out) { return parse_bool(s, out); }

void validate(const ConfigNode& node, Diagnostics& diags) {
    const auto& impl = node.impl();
    Validator v(*impl.doc, diags);
    if (!impl.present) {
        v.map(Tree::empty_map().root(), impl.table, impl.path, impl.location);
        return;
    }
    v.map(impl.node, impl.table, impl.path, impl.location);
}

void validate_free_form(const ConfigNode& node, Diagnostics& diags) {
    const auto& impl = node.impl();
    if (impl.present) {
        Validator(*impl.doc, diags).map(impl.node, nullptr, impl.path, impl.location);
    }
}

}  // namespace vigil::config
