// SPDX-License-Identifier: Apache-2.0
// Tree, its builder, and yaml-cpp's tree copied into one.
#include "config/tree.hpp"

#include <algorithm>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

namespace vigil::config {

Value::Kind Value::kind() const { return tree_->nodes_[index_].kind; }

std::string_view Value::scalar() const {
    if (!is_scalar()) {
        return {};
    }
    const auto& n = tree_->nodes_[index_];
    return std::string_view(tree_->text_).substr(n.begin, n.size);
}

std::size_t Value::size() const {
    if (!defined()) {
        return 0;
    }
    const auto& n = tree_->nodes_[index_];
    return n.kind == Kind::Map || n.kind == Kind::Sequence ? n.size : 0;
}

Value Value::key_at(std::size_t i) const {
    const auto& n = tree_->nodes_[index_];
    return {tree_, tree_->kids_[n.begin + 2 * i]};
}

Value Value::value_at(std::size_t i) const {
    const auto& n = tree_->nodes_[index_];
    return {tree_, tree_->kids_[n.begin + 2 * i + 1]};
}

Value Value::item(std::size_t i) const {
    const auto& n = tree_->nodes_[index_];
    return {tree_, tree_->kids_[n.begin + i]};
}

std::optional<std::size_t> Value::entry_of(std::string_view key) const {
    if (!is_map()) {
        return std::nullopt;
    }
    const auto& n = tree_->nodes_[index_];
    auto first = tree_->sorted_.begin() + n.sorted;
    auto last = first + n.sorted_size;
    auto it = std::lower_bound(
        first, last, key, [&](std::uint32_t entry, std::string_view want) { return key_at(entry).scalar() < want; });
    if (it == last || key_at(*it).scalar() != key) {
        return std::nullopt;
    }
    return *it;
}

std::optional<std::pair<Value, Value>> Value::find(std::string_view key) const {
    auto i = entry_of(key);
    if (!i) {
        return std::nullopt;
    }
    return std::pair{key_at(*i), value_at(*i)};
}

Value Value::find_key(std::string_view key) const {
    auto i = entry_of(key);
    return i ? key_at(*i) : Value();
}

std::uint32_t Value::line() const { return defined() ? tree_->nodes_[index_].line : 0; }
std::uint32_t Value::column() const { return defined() ? tree_->nodes_[index_].column : 0; }

const Tree& Tree::empty_map() {
    static const Tree* tree = [] {
        TreeBuilder b;
        b.begin_map(0, 0);
        b.end();
        return new Tree(b.take());
    }();
    return *tree;
}

std::uint32_t TreeBuilder::add(Value::Kind kind, std::uint32_t line, std::uint32_t column) {
    auto index = static_cast<std::uint32_t>(tree_.nodes_.size());
    tree_.nodes_.push_back({kind, line, column, 0, 0, 0, 0});
    if (open_.empty()) {
        tree_.root_ = index;
    } else {
        pending_.push_back(index);
    }
    return index;
}

void TreeBuilder::scalar(std::string_view text, std::uint32_t line, std::uint32_t column) {
    auto index = add(Value::Kind::Scalar, line, column);
    auto& n = tree_.nodes_[index];
    n.begin = static_cast<std::uint32_t>(tree_.text_.size());
    n.size = static_cast<std::uint32_t>(text.size());
    tree_.text_.append(text);
}

void TreeBuilder::null(std::uint32_t line, std::uint32_t column) { add(Value::Kind::Null, line, column); }

void TreeBuilder::begin_map(std::uint32_t line, std::uint32_t column) {
    open_.push_back({add(Value::Kind::Map, line, column), pending_.size()});
}

void TreeBuilder::begin_sequence(std::uint32_t line, std::uint32_t column) {
    open_.push_back({add(Value::Kind::Sequence, line, column), pending_.size()});
}

void TreeBuilder::end() {
    auto [index, from] = open_.back();
    open_.pop_back();
    auto& n = tree_.nodes_[index];
    auto count = pending_.size() - from;
    n.begin = static_cast<std::uint32_t>(tree_.kids_.size());
    n.size = static_cast<std::uint32_t>(n.kind == Value::Kind::Map ? count / 2 : count);
    tree_.kids_.insert(tree_.kids_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(from), pending_.end());
    pending_.resize(from);
    if (n.kind != Value::Kind::Map) {
        return;
    }
    order_.clear();
    for (std::uint32_t i = 0; i < n.size; ++i) {
        if (tree_.nodes_[tree_.kids_[n.begin + 2 * i]].kind == Value::Kind::Scalar) {
            order_.push_back(i);
        }
    }
    Value map(&tree_, index);
    std::stable_sort(order_.begin(), order_.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return map.key_at(a).scalar() < map.key_at(b).scalar(); });
    n.sorted = static_cast<std::uint32_t>(tree_.sorted_.size());
    n.sorted_size = static_cast<std::uint32_t>(order_.size());
    tree_.sorted_.insert(tree_.sorted_.end(), order_.begin(), order_.end());
}

void TreeBuilder::recycle(Tree&& spent) {
    tree_ = std::move(spent);
    tree_.text_.clear();
    tree_.nodes_.clear();
    tree_.kids_.clear();
    tree_.sorted_.clear();
    tree_.root_ = 0;
}

Tree TreeBuilder::take() {
    Tree out = std::move(tree_);
    tree_ = Tree();
    return out;
}

namespace {
// yaml-cpp expands aliases in place: an anchor holding itself is a cycle, and a few anchors
// each repeating the one before ("billion laughs") make a tree far larger than its text.
struct Copier {
    TreeBuilder b;
    std::size_t budget;
    void copy(const YAML::Node& node, unsigned depth) {
        const auto& mark = node.Mark();
        std::uint32_t line = 0, column = 0;
        if (!mark.is_null() && mark.line >= 0) {
            line = static_cast<std::uint32_t>(mark.line) + 1;
            column = static_cast<std::uint32_t>(mark.column) + 1;
        }
        if (depth > kMaxYamlDepth) {
            throw TooLarge{
                fmt::format("nesting deeper than {} levels (or an alias inside its own anchor)", kMaxYamlDepth), line,
                column};
        }
        if (budget-- == 0) {
            throw TooLarge{"aliases expand to more nodes than the text could hold", line, column};
        }
        switch (node.Type()) {
            case YAML::NodeType::Scalar: b.scalar(node.Scalar(), line, column); return;
            case YAML::NodeType::Map:
                b.begin_map(line, column);
                for (auto it = node.begin(); it != node.end(); ++it) {
                    copy(it->first, depth + 1);
                    copy(it->second, depth + 1);
                }
                b.end();
                return;
            case YAML::NodeType::Sequence:
                b.begin_sequence(line, column);
                for (const auto& item : node) {
                    copy(item, depth + 1);
                }
                b.end();
                return;
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null: b.null(line, column); return;
        }
    }
};
}  // namespace

Tree from_yaml(const YAML::Node& node, std::size_t text_bytes) {
    // Without aliases a node takes at least one byte of text; expansion to a few times that is
    // what sharing an anchor among sections looks like.
    Copier c{{}, 4 * text_bytes + 4096};
    if (node.IsDefined()) {
        c.copy(node, 0);
    }
    return c.b.take();
}

}  // namespace vigil::config
