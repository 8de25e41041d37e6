// SPDX-License-Identifier: Apache-2.0
// A Confluent-compatible schema registry (Apicurio's ccompat API, Confluent's own, Karapace...):
// its options, registering the record's schema and fetching schemas by id, the Confluent wire
// format, and validating JSON against a schema. Shared by kafka_sink and kafka_source.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http_post.hpp"
#include "vigil/config.hpp"

namespace vigil::registry {

/// kafka_sink's `schema_registry` block (url, subject, credentials, ca_file, timeout, wire_format).
extern const OptionSpec kSinkOptions[];
/// kafka_source's (url, credentials, ca_file, timeout).
extern const OptionSpec kSourceOptions[];

enum class WireFormat { Confluent, Header };

/// The message header that carries the schema id with `wire_format: header` (ASCII decimal).
inline constexpr const char* kSchemaIdHeader = "vigil.schema.id";

struct Options {
    std::string url;  // the API's base, e.g. http://127.0.0.1:18081/apis/ccompat/v7 (no trailing /)
    http::PostOptions http;
    std::string subject;        // kafka_sink: "" means <topic>-value
    bool kind_subjects = true;  // kafka_sink: each kind's own schema too, under <topic>-vigil.check.<kind>
    WireFormat wire_format = WireFormat::Confluent;
    SourceLocation where;  // of the block, for errors found at run time
    std::string path;
};

/// Reads a `schema_registry` block validated against kSinkOptions or kSourceOptions.
std::optional<Options> read_options(const ConfigNode& node, Diagnostics& diags);

class Client {
  public:
    explicit Client(Options options);

    struct Registered {
        int id = 0;            // > 0 when registered (or found registered)
        std::string error;     // one line: the registry's own words when it answered
        bool refused = false;  // the registry answered and said no (an incompatible schema): permanent
    };
    /// Registers `schema` (a JSON Schema) under `subject`, or finds it registered: its id.
    Registered register_schema(const std::string& subject, const std::string& schema);

    struct Fetched {
        std::optional<std::string> schema;
        std::string error;
        bool unknown = false;  // the registry answered that no schema has this id
    };
    /// The schema with global id `id`.
    Fetched fetch(std::uint32_t id);

    const Options& options() const { return options_; }

  private:
    Options options_;
    http::Poster poster_;
};

/// Confluent's wire format: byte 0, the schema id as 4 bytes big-endian, then the payload.
void frame(std::uint32_t id, std::string_view payload, std::string& out);

struct Unframed {
    std::optional<std::uint32_t> id;  // set when the message was framed
    std::string_view payload;         // the JSON (the whole message when not framed)
    std::string error;                // set when the framing is broken
};
/// A message that starts with byte 0 is framed (no JSON text starts with it); any other is
/// plain JSON, returned whole.
Unframed unframe(std::string_view message);

/// A compiled JSON Schema. Immutable: one per schema id, shared by every check.
class Validator {
  public:
    /// nullptr with `error` set when `schema` is not a JSON Schema RapidJSON can use.
    static std::shared_ptr<const Validator> compile(const std::string& schema, std::string& error);
    ~Validator();
    Validator(const Validator&) = delete;
    Validator& operator=(const Validator&) = delete;
    /// nullopt when `json` conforms; else one line: the keyword that failed, the JSON pointer of
    /// the value in the document and of the rule in the schema ("type at /status_code (schema
    /// #/properties/status_code)"), or why the text is not JSON.
    std::optional<std::string> check(std::string_view json) const;

  private:
    Validator();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::registry
