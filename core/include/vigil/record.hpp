// SPDX-License-Identifier: Apache-2.0
// The check result: one record, one Kafka message, one row (DESIGN.md "The check result").
//
// The first seven fields are the original project's and are frozen in name and JSON type:
// name, url, response_time, status_code, regex, regex_check, timestamp. Everything after them is
// optional on decode, so seven-field messages from the original producer are accepted as is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/visibility.hpp"

namespace vigil {

/// Microseconds since the Unix epoch, UTC: the precision of the record's timestamps.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

struct CheckRecord {
    // --- the original seven (frozen) ---
    std::string name;                  // site name
    std::string url;                   // URL checked
    double response_time = 0;          // total time, milliseconds
    std::optional<int> status_code;    // null when there was no HTTP response
    std::optional<std::string> regex;  // pattern checked, null when none
    std::optional<bool> regex_check;   // null when no pattern or no body
    Timestamp timestamp{};             // when the check started, UTC, microseconds

    // --- added fields ---
    std::string check_id;              // unique id: the idempotency key downstream
    std::string agent;                 // host name of the checking agent
    std::optional<bool> ok;            // status expected, regex matched, no error
    std::optional<std::string> error;  // dns, connect, tls, timeout, http, regex, ...
    std::optional<std::string> error_detail;
    std::optional<double> dns_ms;  // phase timings of the final hop, milliseconds
    std::optional<double> connect_ms;
    std::optional<double> tls_ms;
    std::optional<double> ttfb_ms;
    std::optional<int> redirects;
    std::optional<std::int64_t> body_bytes;
    std::optional<bool> truncated;
    std::optional<std::string> http_version;
    std::optional<std::string> remote_ip;
    std::optional<Timestamp> tls_not_after;       // certificate expiry, https only
    std::optional<double> lag_ms;                 // how late the check started against its schedule
    std::optional<int> attempts;                  // attempts made (http_check's retries), 1 without retry
    std::optional<std::string> body_excerpt;      // a failed check's first bytes of body (opt-in)
    std::optional<std::string> response_headers;  // and its response headers, "Name: value" lines
    std::optional<std::string> location;          // where the check ran from (http_check's `location`)
    std::optional<std::string> group;             // the site's group (http_check's `group`), for the status page
    std::optional<std::string> kind;              // what was checked: http, tcp, tls, dns, icmp (since SDK ABI 6.0)
    std::optional<std::string> rcode;             // a DNS answer's response code: NOERROR, NXDOMAIN, ... (ABI 7.0)
    std::optional<std::string> answers;           // its records of the asked type, one per line, sorted (ABI 7.0)
    std::optional<int> packets_sent;              // ICMP echo requests sent (ABI 7.0)
    std::optional<int> packets_received;          // and their replies
    std::optional<double> packet_loss;            // percent of requests unanswered
    std::optional<double> rtt_min_ms;             // round-trip times of the replies, milliseconds
    std::optional<double> rtt_avg_ms;
    std::optional<double> rtt_max_ms;
    std::optional<double> rtt_stddev_ms;
    std::optional<std::string> tls_version;  // the TLS session's protocol: TLSv1.3 (ABI 7.0)
    std::optional<std::string> tls_cipher;   // and its cipher suite
    std::optional<std::string> tls_issuer;   // the server certificate's issuer, one line
    std::optional<std::string> ocsp_status;  // a stapled OCSP answer's: good, revoked or unknown

    friend bool operator==(const CheckRecord&, const CheckRecord&) = default;
};

/// One location's part in a site's state (since SDK ABI 5.0): a location that is down or degraded,
/// as a site event names it. The location "" is the checks that named none.
struct LocationNote {
    std::string location;
    std::string state;                  // down or degraded
    std::optional<std::string> cause;   // its error kind, slow or certificate
    std::optional<std::string> detail;  // its latest failed check's error detail

    friend bool operator==(const LocationNote&, const LocationNote&) = default;
};

/// A change of a site's state: a row of pg_sink's `site_events` table, carried through the
/// alerts pipeline (pg_events -> alertmanager_sink, webhook_sink).
struct SiteEvent {
    /// site_events.id: increasing in commit order, the event's idempotency key. 0: not a change
    /// but the current state of a site that is not up (pg_events' `refresh`), so that a sink
    /// re-posting what lasts (Alertmanager) needs no memory of its own; from == to then.
    std::int64_t id = 0;
    std::string site;
    std::string url;
    std::string from;  // up, down or degraded
    std::string to;
    Timestamp at{};     // when the check that made the change started
    Timestamp since{};  // when the state `from` began (for a refresh: when the current one did)
    std::string check_id;
    std::string reason;                         // one line: "3 failed checks in a row: timeout: ..."
    std::optional<std::string> cause;           // what `to` is about: an error kind, slow, certificate
    std::optional<std::string> previous_cause;  // what `from` was about
    std::optional<std::string> error_detail;    // the detail of the check that made the change
    // Since SDK ABI 5.0: the locations behind `to` (down ones for down and a partial outage,
    // degraded ones for degraded; none for up), sorted by name, and the names behind `from`.
    // A change of these alone, the state staying, is an event too (from == to, id != 0).
    std::vector<LocationNote> locations;
    std::vector<std::string> previous_locations;

    friend bool operator==(const SiteEvent&, const SiteEvent&) = default;
};

/// A record in flight, with where it came from. `origin` names its source coordinates for
/// messages and dead letters ("topic=checks partition=3 offset=1234"); empty for fresh checks.
/// A record of the alerts pipeline also carries its `event`; `check` then holds what
/// the event knows of the check (name, url, timestamp, check_id, error, error_detail).
struct Record {
    CheckRecord check;
    std::string origin;
    std::optional<SiteEvent> event;
};

/// Encodes one record as a compact JSON object (the Kafka message value, the stdout line).
/// Never fails: strings that are not valid UTF-8 get U+FFFD for each bad byte, and non-finite
/// numbers are written as null, so the output is always valid JSON.
VIGIL_API std::string encode_json(const CheckRecord& record);
/// Appends the encoding to `out` (for building a batch without a copy per record).
VIGIL_API void encode_json(const CheckRecord& record, std::string& out);

/// The result of decoding: the record, or a one-line reason naming the field ("missing \"url\"",
/// "\"status_code\" must be an integer or null, got string", "invalid JSON at offset 17: ...").
struct DecodeResult {
    std::optional<CheckRecord> record;
    std::string error;
    explicit operator bool() const noexcept { return record.has_value(); }
};

/// Decodes one JSON document. Never throws and never crashes on any input. Unknown fields are
/// ignored so that newer producers can add fields without breaking older consumers.
VIGIL_API DecodeResult decode_json(std::string_view json);

/// A site event as one JSON object: {"id","site","url","from","to","at","since","check_id",
/// "reason","cause","previous_cause","error_detail","locations":[{"location","state","cause",
/// "detail"}],"previous_locations":[...]}. Never fails, as encode_json.
VIGIL_API std::string encode_event_json(const SiteEvent& event);

struct EventDecodeResult {
    std::optional<SiteEvent> event;
    std::string error;
    explicit operator bool() const noexcept { return event.has_value(); }
};
/// Decodes what encode_event_json wrote. Never throws and never crashes on any input.
VIGIL_API EventDecodeResult decode_event_json(std::string_view json);

/// The record's JSON Schema (draft-07), pretty-printed, made from kRecordFields:
/// `agent schema` prints it, schemas/check-record.json holds it, kafka_sink registers it. The
/// original seven fields are required; additional properties are allowed.
VIGIL_API std::string record_json_schema();
/// One kind's own schema (http, tcp, tls, dns, icmp; nullopt for another): the fields that kind
/// fills, and of the original seven those it leaves null typed as null; `kind` required and
/// fixed; titled vigil.check.<kind>. kafka_sink registers it under <topic>-vigil.check.<kind>
/// and tags that kind's records with it; schemas/check-record-<kind>.json holds it (since 7.2).
VIGIL_API std::optional<std::string> record_json_schema(std::string_view kind);

/// "2026-11-28T01:02:03.123456Z": ISO-8601, UTC, always six fractional digits.
VIGIL_API std::string format_timestamp(Timestamp t);
/// Accepts ISO-8601 with "Z" or a numeric offset ("+00:00", "+0200"), "T" or " " between date
/// and time, 0 to 9 fractional digits (truncated to microseconds), and, as the original project
/// wrote them, no zone at all (read as UTC).
VIGIL_API std::optional<Timestamp> parse_timestamp(std::string_view text);

}  // namespace vigil
