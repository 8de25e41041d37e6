// SPDX-License-Identifier: Apache-2.0
#include "message_decode.hpp"

#include <openssl/evp.h>

#include <fmt/core.h>

namespace vigil::plugins::kafka_source {

std::string derived_check_id(std::string_view topic, std::int32_t partition, std::int64_t offset, Timestamp timestamp) {
    auto input =
        fmt::format("vigil-kafka\n{}\n{}\n{}\n{}", topic, partition, offset, timestamp.time_since_epoch().count());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
    md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x80);  // version 8: custom
    md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);  // RFC 9562 variant
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += fmt::format("{:02x}", md[i]);
    }
    return out;
}

Decoded decode_message(std::string_view topic, std::int32_t partition, std::int64_t offset, const void* value,
                       std::size_t size, std::size_t max_bytes) {
    Decoded d;
    if (value == nullptr || size == 0) {
        d.reason = "empty message (no value)";
        return d;
    }
    if (size > max_bytes) {
        d.reason = fmt::format("message of {} bytes is over max_message_bytes ({})", size, max_bytes);
        return d;
    }
    auto result = decode_json(std::string_view(static_cast<const char*>(value), size));
    if (!result) {
        d.reason = result.error;
        return d;
    }
    auto& rec = *result.record;
    if (rec.name.empty()) {
        d.reason = "\"name\" is empty";
        return d;
    }
    if (rec.url.empty()) {
        d.reason = "\"url\" is empty";
        return d;
    }
    if (rec.check_id.empty()) {
        rec.check_id = derived_check_id(topic, partition, offset, rec.timestamp);
    }
    d.record = Record{std::move(rec), fmt::format("topic={} partition={} offset={}", topic, partition, offset)};
    return d;
}

}  // namespace vigil::plugins::kafka_source
