// SPDX-License-Identifier: Apache-2.0
// A Kafka message to a record, or the reason it is not a check result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/record.hpp"

namespace vigil::plugins::kafka_source {

struct Decoded {
    std::optional<Record> record;
    std::string reason;  // set when record is empty: one line, for the dead-letter header
};

/// Decodes `value` read at topic/partition/offset. A record without `check_id` (the original
/// project's seven fields) gets one derived from its coordinates and timestamp, so a redelivered
/// message keeps its id and the database stores it once.
Decoded decode_message(std::string_view topic, std::int32_t partition, std::int64_t offset, const void* value,
                       std::size_t size, std::size_t max_bytes);

/// The id given to a record that has none: a UUID (version 8) from a SHA-256 of the
/// coordinates and the record's timestamp. The timestamp keeps ids distinct when a topic is
/// deleted and created again and its offsets restart.
std::string derived_check_id(std::string_view topic, std::int32_t partition, std::int64_t offset, Timestamp timestamp);

}  // namespace vigil::plugins::kafka_source
