// SPDX-License-Identifier: Apache-2.0
// The record's one description: every field of CheckRecord with its JSON key and type, its
// nullability and its column in the migrations' `metrics` table. The JSON codec, pg_sink's
// columns and the test that holds the table against the migrated database all read this table,
// so adding a field is three edits: the member in record.hpp, a row here, and a migration that
// adds the column (the test fails until the migration matches).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "vigil/record.hpp"

namespace vigil {

/// A field's JSON type. Timestamps are ISO-8601 strings (format_timestamp).
enum class JsonType { String, Number, Integer, Boolean, Timestamp };

/// The CheckRecord member that holds a field. Its type is how the codec reads and writes it: a
/// std::optional member may be null.
using FieldMember =
    std::variant<std::string CheckRecord::*, std::optional<std::string> CheckRecord::*, double CheckRecord::*,
                 std::optional<double> CheckRecord::*, std::optional<int> CheckRecord::*,
                 std::optional<std::int64_t> CheckRecord::*, std::optional<bool> CheckRecord::*,
                 Timestamp CheckRecord::*, std::optional<Timestamp> CheckRecord::*>;

/// The kinds of check Vigil's plugins make, as a set: which kinds' records may carry a field.
enum RecordKind : unsigned { kHttp = 1U, kTcp = 2U, kTls = 4U, kDns = 8U, kIcmp = 16U };
inline constexpr unsigned kEveryKind = kHttp | kTcp | kTls | kDns | kIcmp;
/// Each kind's name, as the record's `kind` says it, with its bit.
inline constexpr std::array<std::pair<std::string_view, RecordKind>, 5> kRecordKinds = {
    {{"http", kHttp}, {"tcp", kTcp}, {"tls", kTls}, {"dns", kDns}, {"icmp", kIcmp}}};

struct RecordField {
    std::string_view name;         // JSON key, and the column's default name
    FieldMember member;            // where CheckRecord holds it
    JsonType json;                 // must agree with the member (checked below)
    bool nullable;                 // JSON null allowed; the member is a std::optional
    bool required;                 // must be present on decode (the original seven)
    bool empty_as_null;            // an empty string is stored as SQL NULL (agent: older producers had none)
    std::string_view column_type;  // as format_type() names it in the `metrics` table
    std::string_view description;  // one line, for the record's JSON Schema (schemas/check-record.json)
    // The kinds whose records may set it: each kind's own schema (schemas/check-record-<kind>.json)
    // lists only these, and types a field of the original seven that the kind leaves null as null.
    unsigned kinds = kEveryKind;
};

// clang-format off
/// In schema order: the order of JSON output, of pg_sink's columns and of the table.
inline constexpr std::array kRecordFields = {
    //          name             member                       json                nullable required empty_as_null column
    //          description
    RecordField{"name",          &CheckRecord::name,          JsonType::String,    false, true,  false, "text",
                "Site name; the Kafka message key"},
    RecordField{"url",           &CheckRecord::url,           JsonType::String,    false, true,  false, "text",
                "URL checked (passwords and secret query values shown as ***)"},
    RecordField{"response_time", &CheckRecord::response_time, JsonType::Number,    false, true,  false, "double precision",
                "Total time of the check in milliseconds, redirects included"},
    RecordField{"status_code",   &CheckRecord::status_code,   JsonType::Integer,   true,  true,  false, "integer",
                "Final HTTP status; null when no response arrived", kHttp},
    RecordField{"regex",         &CheckRecord::regex,         JsonType::String,    true,  true,  false, "text",
                "RE2 pattern searched for in the body; null when none", kHttp | kTcp | kDns},
    RecordField{"regex_check",   &CheckRecord::regex_check,   JsonType::Boolean,   true,  true,  false, "boolean",
                "Whether the body matched regex; null without a regex or a complete body", kHttp | kTcp | kDns},
    RecordField{"timestamp",     &CheckRecord::timestamp,     JsonType::Timestamp, false, true,  false, "timestamp with time zone",
                "When the check started: ISO-8601, UTC, microseconds"},
    RecordField{"check_id",      &CheckRecord::check_id,      JsonType::String,    false, false, false, "text",
                "Unique id of the check (a UUIDv7): the idempotency key downstream"},
    RecordField{"agent",         &CheckRecord::agent,         JsonType::String,    false, false, true,  "text",
                "Host name of the agent that checked"},
    RecordField{"ok",            &CheckRecord::ok,            JsonType::Boolean,   true,  false, false, "boolean",
                "Status expected, patterns and assertions held, no error"},
    RecordField{"error",         &CheckRecord::error,         JsonType::String,    true,  false, false, "text",
                "What failed: dns, connect, tls, timeout, http, regex, assertion, slow, cert_expiring, ...; null when ok"},
    RecordField{"error_detail",  &CheckRecord::error_detail,  JsonType::String,    true,  false, false, "text",
                "One line saying what failed"},
    RecordField{"dns_ms",        &CheckRecord::dns_ms,        JsonType::Number,    true,  false, false, "double precision",
                "Name resolution of the final request, milliseconds", kHttp | kTcp | kTls | kIcmp},
    RecordField{"connect_ms",    &CheckRecord::connect_ms,    JsonType::Number,    true,  false, false, "double precision",
                "TCP connect of the final request, milliseconds", kHttp | kTcp | kTls},
    RecordField{"tls_ms",        &CheckRecord::tls_ms,        JsonType::Number,    true,  false, false, "double precision",
                "TLS handshake of the final request, milliseconds", kHttp | kTls},
    RecordField{"ttfb_ms",       &CheckRecord::ttfb_ms,       JsonType::Number,    true,  false, false, "double precision",
                "From the request sent to its first response byte, milliseconds", kHttp},
    RecordField{"redirects",     &CheckRecord::redirects,     JsonType::Integer,   true,  false, false, "integer",
                "Redirects followed", kHttp},
    RecordField{"body_bytes",    &CheckRecord::body_bytes,    JsonType::Integer,   true,  false, false, "bigint",
                "Body bytes read (after decoding)", kHttp | kTcp},
    RecordField{"truncated",     &CheckRecord::truncated,     JsonType::Boolean,   true,  false, false, "boolean",
                "The body was cut at max_body", kHttp},
    RecordField{"http_version",  &CheckRecord::http_version,  JsonType::String,    true,  false, false, "text",
                "HTTP version of the answer: 1.0, 1.1, 2 or 3", kHttp},
    RecordField{"remote_ip",     &CheckRecord::remote_ip,     JsonType::String,    true,  false, false, "text",
                "Address connected to"},
    RecordField{"tls_not_after", &CheckRecord::tls_not_after, JsonType::Timestamp, true,  false, false, "timestamp with time zone",
                "When the server certificate expires (https): ISO-8601, UTC", kHttp | kTls},
    RecordField{"lag_ms",        &CheckRecord::lag_ms,        JsonType::Number,    true,  false, false, "double precision",
                "How late the check started against its schedule, milliseconds"},
    RecordField{"attempts",      &CheckRecord::attempts,      JsonType::Integer,   true,  false, false, "integer",
                "Attempts the check took (retries); 1 without a retry"},
    RecordField{"body_excerpt",  &CheckRecord::body_excerpt,  JsonType::String,    true,  false, false, "text",
                "A failed check's first 1 KiB of body (opt-in)", kHttp},
    RecordField{"response_headers", &CheckRecord::response_headers, JsonType::String, true, false, false, "text",
                "A failed check's response headers as Name: value lines (opt-in)", kHttp},
    RecordField{"location",      &CheckRecord::location,      JsonType::String,    true,  false, false, "text",
                "Where the check ran from"},
    RecordField{"group",         &CheckRecord::group,         JsonType::String,    true,  false, false, "text",
                "The site's group (a team, a product), for filtering"},
    RecordField{"kind",          &CheckRecord::kind,          JsonType::String,    true,  false, false, "text",
                "What was checked: http, tcp, tls, dns or icmp; null from producers that predate it (http)"},
    RecordField{"rcode",         &CheckRecord::rcode,         JsonType::String,    true,  false, false, "text",
                "DNS checks: the answer's response code (NOERROR, NXDOMAIN, SERVFAIL, ...); null for other kinds", kDns},
    RecordField{"answers",       &CheckRecord::answers,       JsonType::String,    true,  false, false, "text",
                "DNS checks: the answer's records of the asked type in presentation form, one per line, sorted", kDns},
    RecordField{"packets_sent",  &CheckRecord::packets_sent,  JsonType::Integer,   true,  false, false, "integer",
                "ICMP checks: echo requests sent", kIcmp},
    RecordField{"packets_received", &CheckRecord::packets_received, JsonType::Integer, true, false, false, "integer",
                "ICMP checks: echo replies received", kIcmp},
    RecordField{"packet_loss",   &CheckRecord::packet_loss,   JsonType::Number,    true,  false, false, "double precision",
                "ICMP checks: percent of echo requests unanswered (0 to 100)", kIcmp},
    RecordField{"rtt_min_ms",    &CheckRecord::rtt_min_ms,    JsonType::Number,    true,  false, false, "double precision",
                "ICMP checks: the fastest reply's round-trip time, milliseconds; null without a reply", kIcmp},
    RecordField{"rtt_avg_ms",    &CheckRecord::rtt_avg_ms,    JsonType::Number,    true,  false, false, "double precision",
                "ICMP checks: the replies' mean round-trip time, milliseconds; null without a reply", kIcmp},
    RecordField{"rtt_max_ms",    &CheckRecord::rtt_max_ms,    JsonType::Number,    true,  false, false, "double precision",
                "ICMP checks: the slowest reply's round-trip time, milliseconds; null without a reply", kIcmp},
    RecordField{"rtt_stddev_ms", &CheckRecord::rtt_stddev_ms, JsonType::Number,    true,  false, false, "double precision",
                "ICMP checks: the replies' round-trip times' standard deviation, milliseconds", kIcmp},
    RecordField{"tls_version",   &CheckRecord::tls_version,   JsonType::String,    true,  false, false, "text",
                "TLS checks: the session's protocol version (TLSv1.2, TLSv1.3)", kTls},
    RecordField{"tls_cipher",    &CheckRecord::tls_cipher,    JsonType::String,    true,  false, false, "text",
                "TLS checks: the session's cipher suite", kTls},
    RecordField{"tls_issuer",    &CheckRecord::tls_issuer,    JsonType::String,    true,  false, false, "text",
                "TLS checks: the server certificate's issuer, as one line (RFC 2253)", kTls},
    RecordField{"ocsp_status",   &CheckRecord::ocsp_status,   JsonType::String,    true,  false, false, "text",
                "TLS checks: the stapled OCSP answer's status (good, revoked, unknown); null when none was stapled", kTls},
};
// clang-format on

/// Whether the column may hold NULL: a nullable field, or one whose empty string is stored as NULL.
constexpr bool column_nullable(const RecordField& f) { return f.nullable || f.empty_as_null; }

/// The index of the field named `name` in kRecordFields, if there is one.
constexpr std::optional<std::size_t> record_field_index(std::string_view name) {
    for (std::size_t i = 0; i < kRecordFields.size(); ++i) {
        if (kRecordFields[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

/// The index of the kind named `kind` in kRecordKinds, if it is one of them.
constexpr std::optional<std::size_t> record_kind_index(std::string_view kind) {
    for (std::size_t i = 0; i < kRecordKinds.size(); ++i) {
        if (kRecordKinds[i].first == kind) {
            return i;
        }
    }
    return std::nullopt;
}

namespace detail {
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct Unwrapped {
    using Type = T;
};
template <typename T>
struct Unwrapped<std::optional<T>> {
    using Type = T;
};

constexpr bool agrees(const RecordField& f) {
    return std::visit(
        [&](auto m) {
            using Member = std::remove_reference_t<decltype(std::declval<CheckRecord&>().*m)>;
            using T = typename Unwrapped<Member>::Type;
            JsonType want = std::is_same_v<T, std::string> ? JsonType::String
                            : std::is_same_v<T, double>    ? JsonType::Number
                            : std::is_same_v<T, bool>      ? JsonType::Boolean
                            : std::is_same_v<T, Timestamp> ? JsonType::Timestamp
                                                           : JsonType::Integer;
            bool empty_as_null_ok = !f.empty_as_null || std::is_same_v<Member, std::string>;
            bool kinds_ok = f.kinds == kEveryKind || f.nullable;  // another kind's record leaves it null
            return f.json == want && f.nullable == IsOptional<Member>::value && empty_as_null_ok && kinds_ok;
        },
        f.member);
}
constexpr bool table_agrees() {
    for (const auto& f : kRecordFields) {
        if (!agrees(f)) {
            return false;
        }
    }
    return true;
}
}  // namespace detail

static_assert(detail::table_agrees(), "kRecordFields: a row's json type or nullability disagrees with its member");

}  // namespace vigil
