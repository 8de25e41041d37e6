// SPDX-License-Identifier: Apache-2.0
// One record as the disk buffer stores it: a checksum over the rest, a format version, when it
// was stored, its origin and the record's JSON (the same codec Kafka messages use, so whatever
// a sink can write, the buffer can hold).
//
//   u32 crc32 of the bytes after it | u8 version (1) | u64 stored_at (us since epoch) |
//   u32 origin length | origin | JSON
//
// Version 2, for a record that carries a site event (the alerts pipeline), puts
// `u32 event length | event JSON` before the record's JSON. A record without one is still
// written as version 1, so a buffer of checks reads the same in an agent of either version.
//
// Little-endian. LMDB never tears a committed value; the checksum is for what LMDB cannot see:
// a disk or a filesystem that hands back other bytes than were written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vigil/record.hpp"

namespace vigil::pipeline::buffer {

inline constexpr std::size_t kStoredHeader = 4 + 1 + 8 + 4;

/// Appends the stored form of `record` to `out`.
void encode_stored(const Record& record, Timestamp stored_at, std::string& out);

struct StoredRecord {
    std::optional<Record> record;
    Timestamp stored_at{};
    std::string error;  // why the bytes are not a stored record ("checksum mismatch", ...)
};

/// Never throws, never reads outside `bytes`.
StoredRecord decode_stored(std::string_view bytes);

/// The stored_at of a stored record, without decoding it; nullopt if the header is damaged.
std::optional<Timestamp> stored_at(std::string_view bytes);

}  // namespace vigil::pipeline::buffer
