// SPDX-License-Identifier: Apache-2.0
#include "pipeline/buffer/stored_record.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>

#include <fmt/core.h>

namespace vigil::pipeline::buffer {

namespace {
constexpr unsigned char kVersion = 1;
constexpr unsigned char kVersionWithEvent = 2;

void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out += static_cast<char>((v >> (8 * i)) & 0xff);
    }
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    }
    return v;
}

std::uint32_t checksum(std::string_view bytes) {
    // zlib's crc32 takes a uInt length: records are far below 4 GiB, but never wrap silently.
    uLong crc = crc32(0L, Z_NULL, 0);
    while (!bytes.empty()) {
        auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), n);
        bytes.remove_prefix(n);
    }
    return static_cast<std::uint32_t>(crc);
}
}  // namespace

void encode_stored(const Record& record, Timestamp stored_at, std::string& out) {
    std::size_t start = out.size();
    out.append(4, '\0');
    out += static_cast<char>(record.event ? kVersionWithEvent : kVersion);
    put_le(out, static_cast<std::uint64_t>(stored_at.time_since_epoch().count()), 8);
    put_le(out, record.origin.size(), 4);
    out += record.origin;
    if (record.event) {
        auto event = encode_event_json(*record.event);
        put_le(out, event.size(), 4);
        out += event;
    }
    encode_json(record.check, out);
    auto crc = checksum(std::string_view(out).substr(start + 4));
    for (int i = 0; i < 4; ++i) {
        out[start + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
    }
}

std::optional<Timestamp> stored_at(std::string_view bytes) {
    auto version = bytes.size() < kStoredHeader ? 0 : static_cast<unsigned char>(bytes[4]);
    if (version != kVersion && version != kVersionWithEvent) {
        return std::nullopt;
    }
    return Timestamp(std::chrono::microseconds(static_cast<std::int64_t>(get_le(bytes, 5, 8))));
}

StoredRecord decode_stored(std::string_view bytes) {
    StoredRecord out;
    if (bytes.size() < kStoredHeader) {
        out.error = fmt::format("{} bytes, shorter than a record's header", bytes.size());
        return out;
    }
    auto want = static_cast<std::uint32_t>(get_le(bytes, 0, 4));
    auto got = checksum(bytes.substr(4));
    if (want != got) {
        out.error = fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", want, got);
        return out;
    }
    auto version = static_cast<unsigned char>(bytes[4]);
    if (version != kVersion && version != kVersionWithEvent) {
        out.error = fmt::format("unknown format version {}", version);
        return out;
    }
    out.stored_at = Timestamp(std::chrono::microseconds(static_cast<std::int64_t>(get_le(bytes, 5, 8))));
    auto origin_size = get_le(bytes, 13, 4);
    if (origin_size > bytes.size() - kStoredHeader) {
        out.error = fmt::format("origin of {} bytes runs past the record's {} bytes", origin_size, bytes.size());
        return out;
    }
    auto json = bytes.substr(kStoredHeader + origin_size);
    std::optional<SiteEvent> event;
    if (version == kVersionWithEvent) {
        auto event_size = json.size() < 4 ? ~0ull : get_le(json, 0, 4);
        if (event_size > json.size() - std::min<std::size_t>(json.size(), 4)) {
            out.error = "the site event runs past the record's end";
            return out;
        }
        auto decoded_event = decode_event_json(json.substr(4, static_cast<std::size_t>(event_size)));
        if (!decoded_event) {
            out.error = "not a site event: " + decoded_event.error;
            return out;
        }
        event = std::move(decoded_event.event);
        json.remove_prefix(4 + static_cast<std::size_t>(event_size));
    }
    auto decoded = decode_json(json);
    if (!decoded) {
        out.error = "not a check record: " + decoded.error;
        return out;
    }
    out.record =
        Record{std::move(*decoded.record),
               std::string(bytes.substr(kStoredHeader, static_cast<std::size_t>(origin_size))), std::move(event)};
    return out;
}

}  // namespace vigil::pipeline::buffer
