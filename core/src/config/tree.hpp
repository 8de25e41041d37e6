// SPDX-License-Identifier: Apache-2.0
// The parsed text behind every ConfigNode: scalars, maps and lists with their line and column.
// The pipeline file and YAML lists are read by yaml-cpp and copied into a Tree once; a JSON site
// list is built straight from RapidJSON's events (json_list.cpp), so a million sites never pass
// through yaml-cpp, whose parser and node allocation were two thirds of reading a site.
// A Tree is a few flat vectors: one allocation per vector, not per node, and a map's keys are
// sorted once when it closes, so each option is found by binary search.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/node/node.h>

namespace vigil::config {

class Tree;
class Value;
template <class T>
class ValueRange;

/// One node of a Tree, or no node at all (!defined(): an absent key, an empty text).
class Value {
  public:
    enum class Kind : std::uint8_t { Null, Scalar, Map, Sequence };

    Value() = default;
    Value(const Tree* tree, std::uint32_t index) : tree_(tree), index_(index) {}

    bool defined() const { return tree_ != nullptr; }
    bool operator==(const Value& o) const { return tree_ == o.tree_ && index_ == o.index_; }
    Kind kind() const;
    bool is_null() const { return defined() && kind() == Kind::Null; }
    bool is_scalar() const { return defined() && kind() == Kind::Scalar; }
    bool is_map() const { return defined() && kind() == Kind::Map; }
    bool is_sequence() const { return defined() && kind() == Kind::Sequence; }

    /// The scalar's text ("" for any other node).
    std::string_view scalar() const;
    /// Entries of a map, items of a list; 0 otherwise.
    std::size_t size() const;
    /// A map's i-th key and value, in file order.
    Value key_at(std::size_t i) const;
    Value value_at(std::size_t i) const;
    /// A list's i-th item.
    Value item(std::size_t i) const;
    /// The first entry whose key is the scalar `key`: its key node (for a location when the
    /// value has none) and its value; nullopt when none or not a map.
    std::optional<std::pair<Value, Value>> find(std::string_view key) const;
    /// That entry's key node alone; undefined when none.
    Value find_key(std::string_view key) const;

    /// 1-based; 0 when the node has no place in the text (yaml-cpp gives none to some nulls).
    std::uint32_t line() const;
    std::uint32_t column() const;

    /// A list's items, a map's (key, value) entries, in file order.
    ValueRange<Value> items() const;
    ValueRange<std::pair<Value, Value>> entries() const;

  private:
    std::optional<std::size_t> entry_of(std::string_view key) const;
    const Tree* tree_ = nullptr;
    std::uint32_t index_ = 0;
};

/// Index-based iteration over a Value's items or entries.
template <class T>
class ValueRange {
  public:
    class Iterator {
      public:
        Iterator(const Value* v, std::size_t i) : v_(v), i_(i) {}
        T operator*() const {
            if constexpr (std::is_same_v<T, Value>) {
                return v_->item(i_);
            } else {
                return {v_->key_at(i_), v_->value_at(i_)};
            }
        }
        Iterator& operator++() { return ++i_, *this; }
        bool operator==(const Iterator& o) const { return i_ == o.i_; }

      private:
        const Value* v_;
        std::size_t i_;
    };
    explicit ValueRange(const Value& v) : v_(v) {}
    Iterator begin() const { return {&v_, 0}; }
    Iterator end() const { return {&v_, v_.size()}; }

  private:
    Value v_;
};

inline ValueRange<Value> Value::items() const { return ValueRange<Value>(*this); }
inline ValueRange<std::pair<Value, Value>> Value::entries() const { return ValueRange<std::pair<Value, Value>>(*this); }

class Tree {
  public:
    /// The root; undefined for an empty tree.
    Value root() const { return nodes_.empty() ? Value() : Value(this, root_); }
    /// A tree holding one empty map (what an absent section validates as).
    static const Tree& empty_map();

  private:
    friend class Value;
    friend class TreeBuilder;
    struct Node {
        Value::Kind kind;
        std::uint32_t line, column;
        std::uint32_t begin, size;  // scalar: bytes in text_; map: 2*size kids; list: size kids
        std::uint32_t sorted;       // map: where its entries' order by key starts in sorted_
        std::uint32_t sorted_size;  // map: how many (keys that are not scalars are left out)
    };
    std::string text_;
    std::vector<Node> nodes_;
    std::vector<std::uint32_t> kids_;
    std::vector<std::uint32_t> sorted_;  // entry numbers, by key text, then file order
    std::uint32_t root_ = 0;
};

/// Builds a Tree from events in document order (yaml-cpp's tree walked, RapidJSON's reader).
/// The first node begun at depth 0 is the root.
class TreeBuilder {
  public:
    void scalar(std::string_view text, std::uint32_t line, std::uint32_t column);
    void null(std::uint32_t line, std::uint32_t column);
    void begin_map(std::uint32_t line, std::uint32_t column);
    void begin_sequence(std::uint32_t line, std::uint32_t column);
    void end();  // of the innermost map or list
    std::size_t depth() const { return open_.size(); }
    /// The tree built so far (all begun nodes ended), the builder left empty for the next one.
    Tree take();
    /// Builds the next tree in `spent`'s storage (emptied, its capacity kept): a list of a
    /// million small elements then allocates for the first few only.
    void recycle(Tree&& spent);

  private:
    std::uint32_t add(Value::Kind kind, std::uint32_t line, std::uint32_t column);
    Tree tree_;
    struct Open {
        std::uint32_t node;
        std::size_t kids_from;  // in pending_
    };
    std::vector<Open> open_;
    std::vector<std::uint32_t> pending_;  // kids of the open nodes, innermost last
    std::vector<std::uint32_t> order_;    // scratch for sorting a map's keys
};

inline constexpr unsigned kMaxYamlDepth = 256;
/// What from_yaml refuses, and where (1-based; 0 when yaml-cpp gave no mark).
struct TooLarge {
    std::string reason;
    std::uint32_t line, column;
};
/// yaml-cpp's tree copied, its marks made 1-based. Throws TooLarge for a tree nested deeper than
/// kMaxYamlDepth or, aliases expanded, of more than four nodes per byte of its `text_bytes`.
Tree from_yaml(const YAML::Node& node, std::size_t text_bytes);

}  // namespace vigil::config
