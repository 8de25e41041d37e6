// SPDX-License-Identifier: Apache-2.0
// Configuration as plugins see it: a declarative option table, a located view over the plugin's
// part of the pipeline file, typed getters, and a collector of every error found.
//
// Flow: the core loads the pipeline file, interpolates ${VAR} / ${VAR:-default}, checks every key
// of a plugin's section against the plugin's option table (unknown keys, duplicates, types,
// required keys, *_file secrets) and only then calls the plugin's factory with a ConfigNode bound
// to that table. Getters therefore never see a value of the wrong type; a plugin adds semantic
// errors (bad regex, bad URL) with Diagnostics::error() and the node's locations.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "vigil/visibility.hpp"

namespace vigil {

using Duration = std::chrono::nanoseconds;

/// Where a value sits in a file. Lines and columns are 1-based, as compilers print them;
/// 0 means unknown (a value that came from a default or the command line).
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
};

/// One error or warning, in compiler form: `file:line:col: error: key.path: message`.
struct Diagnostic {
    enum class Severity { Error, Warning };
    Severity severity = Severity::Error;
    SourceLocation location;
    std::string path;  // key path such as `sinks[0].security.protocol`; may be empty
    std::string message;

    VIGIL_API std::string render() const;
};

/// Collects every problem found while validating, so the user sees all of them at once
/// (Telegraf reports every unused field together), each problem once. Not thread-safe; one per validation pass.
class VIGIL_API Diagnostics {
  public:
    void error(SourceLocation where, std::string path, std::string message);
    void warning(SourceLocation where, std::string path, std::string message);
    /// An error with no location, such as a plugin file that cannot be loaded.
    void error(std::string message);

    bool has_errors() const noexcept;
    /// Errors reported, repeats included (a caller compares counts to see whether a step failed).
    std::size_t error_count() const noexcept;
    const std::vector<Diagnostic>& entries() const noexcept { return entries_; }

    /// Renders entries in file order (file, line, column), one per line, at most `cap` of them,
    /// followed by `... and N more errors` when capped.
    std::string render(std::size_t cap = 20) const;

  private:
    void add(Diagnostic::Severity severity, SourceLocation where, std::string path, std::string message);

    std::vector<Diagnostic> entries_;  // each problem once: a repeat of one is counted, not kept
    std::size_t errors_ = 0;
    std::unordered_set<std::string> seen_;
};

/// A string that never prints: formatters and --check-config show `<redacted>`.
/// Telegraf's config.Secret in spirit. The value is reachable only through reveal().
class VIGIL_API Secret {
  public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    const std::string& reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }
    static constexpr std::string_view kRedacted = "<redacted>";

  private:
    std::string value_;
};

enum class OptionType : std::uint8_t {
    String,
    Int,         // 64-bit signed integer written as a YAML integer
    Float,       // decimal number
    Bool,        // true or false (YAML 1.2 core: no yes/no/on/off)
    Duration,    // "250ms", "10s", "5m", "1h", "1h30m", "14d"; no bare numbers
    Size,        // "512KiB", "1MiB", "1GB", or a bare byte count
    Secret,      // a string; also accepts <key>_file naming a file that holds it
    StringList,  // a sequence of strings (a single scalar is not silently wrapped)
    StringMap,   // a map of string to string, keys free-form (headers, librdkafka properties)
    Map,         // a nested map validated against `children` (or free-form if none)
    List,        // a sequence of maps, each validated against `children`
};

/// The name of a type as errors and READMEs print it: "duration", "list of maps"...
VIGIL_API std::string_view to_string(OptionType type) noexcept;

/// One entry of a plugin's declarative option table. A table is a C array ending with an entry
/// whose `key` is nullptr. It feeds validation, `--list-plugins --verbose`, the README check and
/// `--check-config` output, so every option is documented exactly once, here.
struct OptionSpec {
    const char* key = nullptr;
    OptionType type = OptionType::String;
    /// The default as it would be written in YAML ("5s", "1MiB", "true"); nullptr: no default.
    const char* default_value = nullptr;
    bool required = false;
    /// For Map and List: the table of the nested maps. nullptr: only the shape is checked here
    /// and the content is validated later against a table known then (the core's plugin
    /// sections). Plugins use StringMap for free-form maps.
    const OptionSpec* children = nullptr;
    /// For String: the allowed values, as a nullptr-terminated array; nullptr: any string.
    const char* const* one_of = nullptr;
    /// One or two sentences: what the option does. Shown in errors and checked against the README.
    const char* description = "";
};

/// Parses "250ms", "1.5s", "1h30m", "14d". Returns nullopt on anything else (including negatives).
VIGIL_API std::optional<Duration> parse_duration(std::string_view text);
/// Formats a duration the way it is written in config: "250ms", "30s", "1h30m".
VIGIL_API std::string format_duration(Duration d);
/// Parses "512KiB", "1MiB", "10MB", "4096". Returns nullopt on anything else or on overflow.
VIGIL_API std::optional<std::uint64_t> parse_size(std::string_view text);
/// Formats a size the way it is written in config: "4MiB", "1GiB", "512B"; one decimal when it
/// is not a whole number of its unit ("3.4MiB").
VIGIL_API std::string format_size(std::uint64_t bytes);

namespace detail {
struct ConfigNodeImpl;
}

/// A read-only, located view over one map of the pipeline file (a source's or sink's section, or
/// a nested map inside it), bound to the option table that validated it.
///
/// Copies are cheap and share the underlying document, which outlives every node that refers to
/// it. Getters are for keys in the bound table only: asking for an undeclared key, or with the
/// wrong type, is a plugin bug and throws std::logic_error (the factory wrapper turns it into a
/// diagnostic). Values are returned after ${VAR} interpolation; an absent key yields the table's
/// default, and an absent key with no default yields the type's empty value (check has()).
class VIGIL_API ConfigNode {
  public:
    ConfigNode();
    explicit ConfigNode(std::shared_ptr<const detail::ConfigNodeImpl> impl);

    /// The key path of this node ("source", "sinks[1].security", "source.sites[3]").
    const std::string& path() const;
    /// Where this node starts.
    const SourceLocation& location() const;
    /// Directory of the file this node came from: relative paths in options resolve against it.
    const std::filesystem::path& base_dir() const;
    /// The option table this node was validated against.
    const OptionSpec* table() const;

    bool has(std::string_view key) const;
    /// How many keys this node's map holds (0 when the node is absent or not a map).
    std::size_t key_count() const;
    /// Location of `key`'s value, or of this node when the key is absent.
    SourceLocation location_of(std::string_view key) const;
    /// `path().key`, for messages.
    std::string path_of(std::string_view key) const;

    std::string get_string(std::string_view key) const;
    std::int64_t get_int(std::string_view key) const;
    double get_float(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    Duration get_duration(std::string_view key) const;
    std::uint64_t get_size(std::string_view key) const;
    /// The value of `key`, or the trimmed content of the file named by `key_file`.
    Secret get_secret(std::string_view key) const;
    std::vector<std::string> get_string_list(std::string_view key) const;
    /// Entries in file order, values interpolated.
    std::vector<std::pair<std::string, std::string>> get_string_map(std::string_view key) const;
    /// Location of one entry of a StringMap, for errors about a single entry.
    SourceLocation location_of_entry(std::string_view key, std::string_view entry) const;
    /// A nested Map, bound to its children table. Absent: a node whose has() is always false.
    ConfigNode child(std::string_view key) const;
    /// The maps of a List, each bound to the children table.
    std::vector<ConfigNode> items(std::string_view key) const;

    /// This node's map as one compact JSON object: the keys as written, in file
    /// order, each value interpolated and typed by the option table (integers, numbers and
    /// booleans as JSON's own; durations, sizes and secrets as their text). For handing a piece of
    /// configuration on to other agents, which validate it again.
    std::string to_json() const;

    /// A path relative to base_dir() made absolute; absolute paths and "" are returned unchanged.
    std::filesystem::path resolve_path(const std::string& path) const;

    /// The internals, for the core's validator and printer.
    const detail::ConfigNodeImpl& impl() const { return *impl_; }

  private:
    std::shared_ptr<const detail::ConfigNodeImpl> impl_;
};

/// Calls `each`, in order, with every map of a list held in `text` (YAML, or JSON, which YAML
/// reads as is), each validated against `table` exactly as the pipeline file is. A map with
/// validation errors is reported in `diags` and not passed to `each`. `name` is what messages
/// call the text ("sites.json", "$WEBSITES"); relative paths inside resolve against `base_dir`.
/// Paths are "[0]", "[1]"... A JSON array is streamed: each element is built from RapidJSON's
/// events into a small tree of its own (yaml-cpp is not involved), so a list of a million sites
/// never exists as one parsed tree. The node passed to `each` is valid only during the call.
VIGIL_API void for_each_in_list(const std::string& text, const std::string& name, const std::filesystem::path& base_dir,
                                const OptionSpec* table, Diagnostics& diags,
                                const std::function<void(const ConfigNode&)>& each);
/// The same for text that someone else wrote (a Kafka message) or that is published for others to
/// read: values are taken literally (`${VAR}` stays that text), a `*_file` secret is an error (no
/// file of the agent's is read for it), and relative paths have no base.
VIGIL_API void for_each_in_data_list(const std::string& text, const std::string& name, const OptionSpec* table,
                                     Diagnostics& diags, const std::function<void(const ConfigNode&)>& each);
/// The same for a file; a file that cannot be read is one diagnostic at `where`.
VIGIL_API void for_each_in_list_file(const std::filesystem::path& file, const OptionSpec* table,
                                     const SourceLocation& where, Diagnostics& diags,
                                     const std::function<void(const ConfigNode&)>& each);

}  // namespace vigil
