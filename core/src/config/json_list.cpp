// SPDX-License-Identifier: Apache-2.0
// for_each_in_list: a list of maps (sites) read one element at a time. A JSON array is split into
// its elements with RapidJSON's SAX reader and each element parsed alone by yaml-cpp, so a
// million-site file never becomes one YAML tree; other YAML is read whole.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <rapidjson/reader.h>

#include "untrusted_json.hpp"

#include "config/document.hpp"

namespace vigil {

namespace {

// Byte offsets of the top-level elements of a JSON array, found with the guarded SAX reader
// (lib/json: no tree is built, numbers never converted by RapidJSON). Its iterative parser calls
// StartObject and EndObject with the stream still on the '{' and the '}'.
struct ElementSplitter : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ElementSplitter> {
    struct Span {
        std::size_t begin, end;
        bool is_map;
    };
    explicit ElementSplitter(const json::BoundedStream& in) : in_(in) {}
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
    const json::BoundedStream& in_;
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
    config::set_node(*impl, item);
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
                       const config::Environment& env, bool data, const OptionSpec* table, Diagnostics& diags,
                       const std::function<void(const ConfigNode&)>& each) {
    json::BoundedStream in(text.data(), text.size());
    ElementSplitter splitter(in);
    // A site list is the operator's file, and may be large: only its depth is bounded here.
    json::Limits limits{.max_bytes = std::size_t{1} << 30};
    auto error = json::read(text, in, splitter, limits);
    LineCounter lines(text);
    if (error && !(error->by_handler && !splitter.root_is_array)) {
        auto [line, col] = lines.at(error->offset);
        diags.error({name, line, col}, {}, "invalid JSON: " + error->reason);
        return true;
    }
    if (!splitter.root_is_array) {
        return false;  // not a JSON array after all: let the YAML path report it
    }
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
        doc->data = data;
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

// `data`: someone else's text (no environment, no files; see detail::Document::data).
void each_in_list(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                  const OptionSpec* table, Diagnostics& diags, const std::function<void(const ConfigNode&)>& each,
                  bool data) {
    auto env = data ? config::Environment{} : config::snapshot_environment();
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[' &&
        stream_json_array(text, name, base_dir, env, data, table, diags, each)) {
        return;
    }
    auto doc = config::load_string(text, name, base_dir, std::move(env), diags, data);
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
}  // namespace

void for_each_in_list(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                      const OptionSpec* table, Diagnostics& diags, const std::function<void(const ConfigNode&)>& each) {
    each_in_list(text, name, base_dir, table, diags, each, false);
}

void for_each_in_data_list(const std::string& text, const std::string& name, const OptionSpec* table,
                           Diagnostics& diags, const std::function<void(const ConfigNode&)>& each) {
    each_in_list(text, name, {}, table, diags, each, true);
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
