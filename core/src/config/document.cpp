// SPDX-License-Identifier: Apache-2.0
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include "config/document.hpp"

namespace vigil::config {

SourceLocation locate(const detail::Document& doc, const YAML::Mark& mark,
                      const SourceLocation& fallback) {
    if (mark.is_null() || mark.line < 0) {
        return fallback.file.empty() ? SourceLocation{doc.file, 0, 0} : fallback;
    }
    return {doc.file, mark.line + 1 + doc.line_offset,
            mark.column + 1 + (mark.line == 0 ? doc.column_offset : 0)};
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
    if (!impl.present || !impl.node.IsMap()) {
        return std::nullopt;
    }
    for (auto it = impl.node.begin(); it != impl.node.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == key) {
            return Entry{it->second, locate(*impl.doc, it->second.Mark(), locate(*impl.doc, it->first.Mark()))};
        }
    }
    return std::nullopt;
}

ConfigNode raw_child(const ConfigNode& parent, std::string_view key) {
    const auto& p = parent.impl();
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = p.doc;
    impl->path = join_path(p.path, key);
    impl->location = p.location;
    if (auto entry = find_entry(p, key)) {
        impl->node = entry->value;
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

namespace {

// RapidJSON 1.1.0's UTF-8 validation takes up to three continuation bytes without looking, so
// on its NUL-terminated StringStream a list cut inside a multi-byte sequence was read past its
// end (found by the config fuzzer). This stream stops at the end and returns '\0' from there on.
// Like StringStream it asks for copy optimization: the reader parses a scalar on a local copy,
// so the splitter's Tell() during the scalar's callback is still the scalar's first byte.
class BoundedStream {
  public:
    using Ch = char;
    BoundedStream(const char* data, std::size_t size) : begin_(data), src_(data), end_(data + size) {}
    Ch Peek() const { return src_ == end_ ? '\0' : *src_; }
    Ch Take() { return src_ == end_ ? '\0' : *src_++; }
    std::size_t Tell() const { return static_cast<std::size_t>(src_ - begin_); }
    // Read-only: the reader never writes to an input stream it does not parse in situ.
    Ch* PutBegin() { return nullptr; }
    void Put(Ch) {}
    void Flush() {}
    std::size_t PutEnd(Ch*) { return 0; }

  private:
    const Ch* begin_;
    const Ch* src_;
    const Ch* end_;
};

}  // namespace
}  // namespace vigil

template <>
struct rapidjson::StreamTraits<vigil::BoundedStream> {
    enum { copyOptimization = 1 };
};

namespace vigil {
namespace {

// Byte offsets of the top-level elements of a JSON array, found with RapidJSON's SAX reader
// (no tree is built). The iterative parser (safe against deep nesting) calls StartObject and
// EndObject with the stream still on the '{' and the '}'.
struct ElementSplitter : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ElementSplitter> {
    struct Span {
        std::size_t begin, end;
        bool is_map;
    };
    explicit ElementSplitter(const BoundedStream& in) : in_(in) {}
    std::vector<Span> spans;

    bool StartObject() { return open(true); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() {
        if (depth_ == 0) {
            ++depth_;
            root_is_array = true;
            return true;
        }
        return open(false);
    }
    bool EndArray(rapidjson::SizeType) { return depth_ == 1 ? (--depth_, true) : close(); }
    bool Default() {  // every scalar, keys included
        if (depth_ == 0) {
            return false;  // the root is a scalar
        }
        if (depth_ == 1) {  // a scalar element: not a map
            spans.push_back({in_.Tell(), in_.Tell() + 1, false});
        }
        return true;
    }
    bool root_is_array = false;

  private:
    bool open(bool map) {
        if (depth_ == 0) {
            return false;  // the root is not an array
        }
        if (depth_ == 1) {
            spans.push_back({in_.Tell(), 0, map});
        }
        ++depth_;
        return true;
    }
    bool close() {
        if (--depth_ == 1) {
            spans.back().end = in_.Tell() + 1;
        }
        return true;
    }
    const BoundedStream& in_;
    int depth_ = 0;
};

// Line and column (1-based) of byte offsets, asked for in increasing order.
class LineCounter {
  public:
    explicit LineCounter(std::string_view text) : text_(text) {}
    std::pair<int, int> at(std::size_t offset) {
        for (; pos_ < offset && pos_ < text_.size(); ++pos_) {
            if (text_[pos_] == '\n') {
                ++line_;
                line_start_ = pos_ + 1;
            }
        }
        return {line_, static_cast<int>(offset - line_start_) + 1};
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0, line_start_ = 0;
    int line_ = 1;
};

void each_node(const std::shared_ptr<const detail::Document>& doc, const YAML::Node& item, std::size_t index,
               const std::string& name, const OptionSpec* table, Diagnostics& diags,
               const std::function<void(const ConfigNode&)>& each) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = doc;
    impl->node = item;
    impl->present = true;
    impl->path = fmt::format("[{}]", index);
    impl->location = config::locate(*doc, item.Mark(), {name, 1, 1});
    impl->table = table;
    ConfigNode node(std::move(impl));
    std::size_t before = diags.error_count();
    config::validate(node, diags);
    if (diags.error_count() == before) {
        each(node);
    }
}

bool stream_json_array(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                       const OptionSpec* table, Diagnostics& diags,
                       const std::function<void(const ConfigNode&)>& each) {
    BoundedStream in(text.data(), text.size());
    ElementSplitter splitter(in);
    rapidjson::Reader reader;
    auto ok = reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(in, splitter);
    LineCounter lines(text);
    if (!ok && reader.GetParseErrorCode() != rapidjson::kParseErrorTermination) {
        auto [line, col] = lines.at(reader.GetErrorOffset());
        diags.error({name, line, col}, {},
                    std::string("invalid JSON: ") + rapidjson::GetParseError_En(reader.GetParseErrorCode()));
        return true;
    }
    if (!splitter.root_is_array) {
        return false;  // not a JSON array after all: let the YAML path report it
    }
    auto env = config::snapshot_environment();
    for (std::size_t i = 0; i < splitter.spans.size(); ++i) {
        const auto& span = splitter.spans[i];
        auto [line, col] = lines.at(span.begin);
        if (!span.is_map) {
            diags.error({name, line, col}, fmt::format("[{}]", i), "expected a map");
            continue;
        }
        auto doc = std::make_shared<detail::Document>();
        doc->file = name;
        doc->base_dir = base_dir;
        doc->env = env;
        doc->line_offset = line - 1;
        doc->column_offset = col - 1;
        try {
            doc->root = YAML::Load(text.substr(span.begin, span.end - span.begin));
        } catch (const YAML::Exception& e) {
            diags.error(config::locate(*doc, e.mark), fmt::format("[{}]", i), "invalid YAML: " + e.msg);
            continue;
        }
        each_node(doc, doc->root, i, name, table, diags, each);
    }
    return true;
}

}  // namespace

void for_each_in_list(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                      const OptionSpec* table, Diagnostics& diags,
                      const std::function<void(const ConfigNode&)>& each) {
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[' &&
        stream_json_array(text, name, base_dir, table, diags, each)) {
        return;
    }
    auto doc = config::load_string(text, name, base_dir, config::snapshot_environment(), diags);
    if (!doc) {
        return;
    }
    if (!doc->root.IsSequence()) {
        diags.error(config::locate(*doc, doc->root.Mark(), {name, 1, 1}), {},
                    "expected a list of maps, e.g. [{\"name\": \"a\", \"url\": \"https://a.example/\"}]");
        return;
    }
    std::size_t i = 0;
    for (const auto& item : doc->root) {
        each_node(doc, static_cast<const YAML::Node&>(item), i++, name, table, diags, each);
    }
}

void for_each_in_list_file(const std::filesystem::path& file, const OptionSpec* table, const SourceLocation& where,
                           Diagnostics& diags, const std::function<void(const ConfigNode&)>& each) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        diags.error(where, {}, fmt::format("cannot read \"{}\": {}", file.string(), std::strerror(errno)));
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    for_each_in_list(text.str(), file.string(), std::filesystem::absolute(file).parent_path(), table, diags, each);
}

}  // namespace vigil
