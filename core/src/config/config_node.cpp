// SPDX-License-Identifier: Apache-2.0
// Typed getters over a validated node. Validation already refused every bad value, so a failure
// here means the plugin asked for something its table does not declare: a bug, hence logic_error.
#include <charconv>
#include <stdexcept>

#include <fmt/core.h>

#include "config/document.hpp"
#include "secret_file.hpp"

namespace vigil {

namespace {
const detail::ConfigNodeImpl& empty_impl() {
    static const auto* impl = [] {
        auto* i = new detail::ConfigNodeImpl();
        auto doc = std::make_shared<detail::Document>();
        doc->source = std::make_shared<const detail::Source>();
        i->doc = std::move(doc);
        return i;
    }();
    return *impl;
}
}  // namespace

ConfigNode::ConfigNode() : impl_(std::shared_ptr<const detail::ConfigNodeImpl>(&empty_impl(), [](const auto*) {})) {}
ConfigNode::ConfigNode(std::shared_ptr<const detail::ConfigNodeImpl> impl) : impl_(std::move(impl)) {}

const std::string& ConfigNode::path() const { return impl_->path; }
const SourceLocation& ConfigNode::location() const { return impl_->location; }
const std::filesystem::path& ConfigNode::base_dir() const { return impl_->doc->source->base_dir; }
const OptionSpec* ConfigNode::table() const { return impl_->table; }

namespace {

struct Found {
    const OptionSpec* spec = nullptr;
    config::Value value;
    bool present = false;
    SourceLocation location;
};

Found lookup(const detail::ConfigNodeImpl& impl, std::string_view key, OptionType type) {
    Found f;
    f.spec = config::find_option(impl.table, key);
    if (f.spec == nullptr) {
        throw std::logic_error(fmt::format("{}: option \"{}\" is not in the plugin's option table", impl.path, key));
    }
    bool compatible = f.spec->type == type || (type == OptionType::String && f.spec->type == OptionType::Secret);
    if (!compatible) {
        throw std::logic_error(fmt::format("{}: option \"{}\" is a {}, read as a {}", impl.path, key,
                                           to_string(f.spec->type), to_string(type)));
    }
    f.location = impl.location;
    if (auto entry = config::find_entry(impl, key)) {
        f.value = entry->value;
        f.present = true;
        f.location = entry->location;
    }
    return f;
}

// The interpolated text of a scalar option, or its default; nullopt when absent with no default.
std::optional<std::string> scalar(const detail::ConfigNodeImpl& impl, std::string_view key, OptionType type) {
    auto f = lookup(impl, key, type);
    if (!f.present) {
        if (f.spec->default_value == nullptr) {
            return std::nullopt;
        }
        return std::string(f.spec->default_value);
    }
    std::string error;
    auto s = config::scalar_text(*impl.doc, f.value, error);
    if (!s) {
        throw std::logic_error(fmt::format("{}.{}: {}", impl.path, key, error));
    }
    return s;
}

[[noreturn]] void bad_default(const detail::ConfigNodeImpl& impl, std::string_view key, const std::string& text) {
    throw std::logic_error(fmt::format("{}.{}: value \"{}\" does not parse", impl.path, key, text));
}

}  // namespace

// Asked several times per option of every site: a lookup only, no location made.
bool ConfigNode::has(std::string_view key) const { return impl_->present && impl_->node.find_key(key).defined(); }

std::size_t ConfigNode::key_count() const { return impl_->present ? impl_->node.size() : 0; }

SourceLocation ConfigNode::location_of(std::string_view key) const {
    auto entry = config::find_entry(*impl_, key);
    return entry ? entry->location : impl_->location;
}

std::string ConfigNode::path_of(std::string_view key) const { return config::join_path(impl_->path, key); }

std::string ConfigNode::get_string(std::string_view key) const {
    return scalar(*impl_, key, OptionType::String).value_or("");
}

std::int64_t ConfigNode::get_int(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Int);
    if (!s) {
        return 0;
    }
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec != std::errc() || p != s->data() + s->size()) {
        bad_default(*impl_, key, *s);
    }
    return n;
}

double ConfigNode::get_float(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Float);
    if (!s) {
        return 0;
    }
    double d = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), d);
    if (ec != std::errc() || p != s->data() + s->size()) {
        bad_default(*impl_, key, *s);
    }
    return d;
}

bool ConfigNode::get_bool(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Bool);
    bool b = false;
    if (s && !config::parse_bool_text(*s, b)) {
        bad_default(*impl_, key, *s);
    }
    return b;
}

Duration ConfigNode::get_duration(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Duration);
    if (!s) {
        return Duration::zero();
    }
    auto d = parse_duration(*s);
    if (!d) {
        bad_default(*impl_, key, *s);
    }
    return *d;
}

std::uint64_t ConfigNode::get_size(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Size);
    if (!s) {
        return 0;
    }
    auto n = parse_size(*s);
    if (!n) {
        bad_default(*impl_, key, *s);
    }
    return *n;
}

Secret ConfigNode::get_secret(std::string_view key) const {
    auto s = scalar(*impl_, key, OptionType::Secret);  // also refuses a key the table lacks
    auto file = config::find_entry(*impl_, std::string(key) + "_file");
    if (!file) {
        return Secret(s.value_or(""));
    }
    if (impl_->doc->source->data) {  // validation refused it already
        throw std::logic_error(impl_->path + ": a message may not name a file");
    }
    std::string error;
    auto path = config::scalar_text(*impl_->doc, file->value, error);
    auto content = path ? config::read_secret_file(impl_->doc->source->base_dir, *path, error) : std::nullopt;
    if (!content) {
        throw std::logic_error(error);
    }
    return Secret(*content);
}

std::vector<std::string> ConfigNode::get_string_list(std::string_view key) const {
    auto f = lookup(*impl_, key, OptionType::StringList);
    std::vector<std::string> out;
    if (!f.present) {
        return out;
    }
    for (auto item : f.value.items()) {
        std::string error;
        auto s = config::scalar_text(*impl_->doc, item, error);
        if (!s) {
            throw std::logic_error(error);
        }
        out.push_back(std::move(*s));
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> ConfigNode::get_string_map(std::string_view key) const {
    auto f = lookup(*impl_, key, OptionType::StringMap);
    std::vector<std::pair<std::string, std::string>> out;
    if (!f.present) {
        return out;
    }
    for (auto [k, v] : f.value.entries()) {
        std::string error;
        auto s = config::scalar_text(*impl_->doc, v, error);
        if (!s) {
            throw std::logic_error(error);
        }
        out.emplace_back(std::string(k.scalar()), std::move(*s));
    }
    return out;
}

SourceLocation ConfigNode::location_of_entry(std::string_view key, std::string_view entry) const {
    auto f = lookup(*impl_, key, OptionType::StringMap);
    if (f.present && f.value.is_map()) {
        return config::locate(*impl_->doc, f.value.find_key(entry), f.location);
    }
    return f.location;
}

ConfigNode ConfigNode::child(std::string_view key) const {
    auto f = lookup(*impl_, key, OptionType::Map);
    return config::rebind(config::raw_child(*this, key), f.spec->children);
}

std::vector<ConfigNode> ConfigNode::items(std::string_view key) const {
    auto f = lookup(*impl_, key, OptionType::List);
    auto raw = config::raw_items(*this, key);
    std::vector<ConfigNode> out;
    out.reserve(raw.size());
    for (auto& n : raw) {
        out.push_back(config::rebind(n, f.spec->children));
    }
    return out;
}

std::filesystem::path ConfigNode::resolve_path(const std::string& path) const {
    std::filesystem::path p(path);
    if (path.empty() || p.is_absolute()) {
        return p;
    }
    return impl_->doc->source->base_dir / p;
}

}  // namespace vigil
