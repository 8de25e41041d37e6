// SPDX-License-Identifier: Apache-2.0
#include "check_id.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>

namespace vigil::checks {

std::string make_check_id(Timestamp t, std::mt19937_64& rng) {
    auto ms = static_cast<std::uint64_t>(t.time_since_epoch().count() / 1000);
    std::uint64_t a = rng();
    std::uint64_t b = rng();
    unsigned char u[16];
    for (int i = 0; i < 6; ++i) {
        u[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    }
    u[6] = static_cast<unsigned char>(0x70 | ((a >> 8) & 0x0f));  // version 7
    u[7] = static_cast<unsigned char>(a);
    u[8] = static_cast<unsigned char>(0x80 | ((b >> 56) & 0x3f));  // RFC 9562 variant
    for (int i = 9; i < 16; ++i) {
        u[i] = static_cast<unsigned char>(b >> (8 * (15 - i)));
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += kHex[u[i] >> 4];
        out += kHex[u[i] & 0x0f];
    }
    return out;
}

std::mt19937_64 seeded_rng() {
    // check_id is the idempotency key downstream: a generator seeded from one 32-bit word could
    // start two agents on the same sequence after 2^16 restarts (birthday bound). Fill the whole
    // state from the OS entropy source instead.
    std::random_device rd;
    std::array<std::uint32_t, std::mt19937_64::state_size * 2> words{};
    std::generate(words.begin(), words.end(), std::ref(rd));
    std::seed_seq seq(words.begin(), words.end());
    return std::mt19937_64(seq);
}

}  // namespace vigil::checks
