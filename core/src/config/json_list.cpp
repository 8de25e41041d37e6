// SPDX-License-Identifier: Apache-2.0
// for_each_in_list: a list of maps (sites) read one element at a time. A JSON array is read by
// RapidJSON's SAX reader, each element built into a small Tree of its own and handed on, so a
// million-site file never becomes one tree and never passes through yaml-cpp; other YAML is read
// whole.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include <fmt/core.h>
#include <rapidjson/reader.h>

#include "untrusted_json.hpp"

#include "config/document.hpp"

namespace vigil {

namespace {

// Whether the text is one valid JSON array (the guarded SAX reader: no tree built, numbers never
// converted by RapidJSON). Read before any element is handed on, so a list with a syntax error
// anywhere is refused whole, as it always was.
struct ArrayShape : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ArrayShape> {
    bool root_is_array = false;
    bool StartArray() { return open(true); }
    bool StartObject() { return open(false); }
    bool EndObject(rapidjson::SizeType) { return --depth_, true; }
    bool EndArray(rapidjson::SizeType) { return --depth_, true; }
    bool Default() { return depth_ > 0; }  // a scalar root is not a list

  private:
    bool open(bool array) {
        if (depth_++ == 0) {
            root_is_array = array;
        }
        return root_is_array;
    }
    int depth_ = 0;
};

// Line and column (1-based) of byte offsets, asked for in increasing order.
class LineCounter {
  public:
    explicit LineCounter(std::string_view text) : text_(text) {}
    std::pair<std::uint32_t, std::uint32_t> at(std::size_t offset) {
        offset = std::min(offset, text_.size());
        while (pos_ < offset) {
            const void* nl = std::memchr(text_.data() + pos_, '\n', offset - pos_);
            if (nl == nullptr) {
                pos_ = offset;
                break;
            }
            pos_ = static_cast<std::size_t>(static_cast<const char*>(nl) - text_.data()) + 1;
            ++line_;
            line_start_ = pos_;
        }
        return {line_, static_cast<std::uint32_t>(offset - line_start_) + 1};
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0, line_start_ = 0;
    std::uint32_t line_ = 1;
};

void each_node(const std::shared_ptr<const detail::Document>& doc, config::Value item, std::size_t index,
               const OptionSpec* table, Diagnostics& diags, const std::function<void(const ConfigNode&)>& each) {
    auto impl = std::make_shared<detail::ConfigNodeImpl>();
    impl->doc = doc;
    impl->node = item;
    impl->present = true;
    impl->path = fmt::format("[{}]", index);
    impl->location = config::locate(*doc, item, {doc->file(), 1, 1});
    impl->table = table;
    ConfigNode node(std::move(impl));
    std::size_t before = diags.error_count();
    config::validate(node, diags);
    if (diags.error_count() == before) {
        each(node);
    }
}

// The array's elements, each built into a Tree of its own straight from the reader's events
// (no yaml-cpp, no text copied out) and handed on as soon as it ends. RapidJSON calls every
// handler but Null and Bool with the stream on the token's first byte (BoundedStream's copy
// optimisation), which gives each node its line and column. Scalars keep their text as written: a number is its
// token, true and false their words, as YAML would read them.
class ElementReader : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ElementReader> {
  public:
    ElementReader(std::string_view text, const json::BoundedStream& in, std::shared_ptr<const detail::Source> source,
                  const OptionSpec* table, Diagnostics& diags, const std::function<void(const ConfigNode&)>& each)
        : text_(text), in_(in), lines_(text), source_(std::move(source)), table_(table), diags_(diags), each_(each) {}

    // null, true and false are read on the stream itself: it is past them when the handler runs.
    bool Null() { return place(4), builder_.null(line_, column_), done(); }
    bool Bool(bool b) { return place(b ? 4 : 5), builder_.scalar(b ? "true" : "false", line_, column_), done(); }
    bool Int(int) { return number(); }
    bool Uint(unsigned) { return number(); }
    bool Int64(std::int64_t) { return number(); }
    bool Uint64(std::uint64_t) { return number(); }
    bool Double(double) { return number(); }
    bool String(const char* s, rapidjson::SizeType n, bool) {
        return place(), builder_.scalar({s, n}, line_, column_), done();
    }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) { return String(s, n, copy); }
    bool StartObject() { return open(true); }
    bool StartArray() { return open(false); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool EndArray(rapidjson::SizeType) { return close(); }

  private:
    void place(std::size_t back = 0) { std::tie(line_, column_) = lines_.at(in_.Tell() - back); }
    bool number() {
        place();
        auto token = text_.substr(in_.Tell());
        token = token.substr(0, token.find_first_not_of("0123456789+-.eE"));
        builder_.scalar(token, line_, column_);
        return done();
    }
    bool open(bool map) {
        if (!in_array_) {  // the root array itself
            in_array_ = true;
            return true;
        }
        place();
        map ? builder_.begin_map(line_, column_) : builder_.begin_sequence(line_, column_);
        return true;
    }
    bool close() {
        if (builder_.depth() == 0) {
            return true;  // the root array's end
        }
        builder_.end();
        return done();
    }
    // After each value: an element that is whole goes on.
    bool done() {
        if (builder_.depth() != 0) {
            return true;
        }
        auto doc = spare_ ? std::move(spare_) : std::make_shared<detail::Document>();
        doc->source = source_;
        doc->tree = builder_.take();
        auto root = doc->tree.root();
        if (!root.is_map()) {
            diags_.error(config::locate(*doc, root), fmt::format("[{}]", index_), "expected a map");
        } else {
            each_node(doc, root, index_, table_, diags_, each_);
        }
        ++index_;
        if (doc.use_count() == 1) {  // nobody kept the element's node: its storage serves the next
            builder_.recycle(std::move(doc->tree));
            spare_ = std::move(doc);
        }
        return true;
    }

    std::string_view text_;
    const json::BoundedStream& in_;
    LineCounter lines_;
    std::shared_ptr<const detail::Source> source_;
    const OptionSpec* table_;
    Diagnostics& diags_;
    const std::function<void(const ConfigNode&)>& each_;
    config::TreeBuilder builder_;
    std::shared_ptr<detail::Document> spare_;
    bool in_array_ = false;
    std::size_t index_ = 0;
    std::uint32_t line_ = 0, column_ = 0;
};

bool stream_json_array(const std::string& text, const std::shared_ptr<const detail::Source>& source,
                       const OptionSpec* table, Diagnostics& diags,
                       const std::function<void(const ConfigNode&)>& each) {
    // A site list is the operator's file, and may be large: only its depth is bounded here.
    json::Limits limits{.max_bytes = std::size_t{1} << 30};
    ArrayShape shape;
    json::BoundedStream probe(text.data(), text.size());
    auto error = json::read(text, probe, shape, limits);
    if (error && !(error->by_handler && !shape.root_is_array)) {
        auto [line, col] = LineCounter(text).at(error->offset);
        diags.error({source->file, static_cast<int>(line), static_cast<int>(col)}, {},
                    "invalid JSON: " + error->reason);
        return true;
    }
    if (!shape.root_is_array) {
        return false;  // not a JSON array after all: let the YAML path report it
    }
    json::BoundedStream in(text.data(), text.size());
    ElementReader reader(text, in, source, table, diags, each);
    json::read(text, in, reader, limits);  // read whole above: cannot fail here
    return true;
}

// `data`: someone else's text (no environment, no files; see detail::Document::data).
void each_in_list(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                  const OptionSpec* table, Diagnostics& diags, const std::function<void(const ConfigNode&)>& each,
                  bool data) {
    auto env = data ? config::Environment{} : config::snapshot_environment();
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[') {
        auto source = std::make_shared<const detail::Source>(detail::Source{name, base_dir, env, data});
        if (stream_json_array(text, source, table, diags, each)) {
            return;
        }
    }
    auto doc = config::load_string(text, name, base_dir, std::move(env), diags, data);
    if (!doc) {
        return;
    }
    auto root = doc->tree.root();
    if (!root.is_sequence()) {
        diags.error(config::locate(*doc, root, {name, 1, 1}), {},
                    "expected a list of maps, e.g. [{\"name\": \"a\", \"url\": \"https://a.example/\"}]");
        return;
    }
    std::size_t i = 0;
    for (auto item : root.items()) {
        each_node(doc, item, i++, table, diags, each);
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
