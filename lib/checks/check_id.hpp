// SPDX-License-Identifier: Apache-2.0
// check_id, the record's idempotency key downstream: a UUIDv7 (RFC 9562) per check.
#pragma once

#include <random>
#include <string>

#include "vigil/record.hpp"

namespace vigil::checks {

/// A UUIDv7: the check's start in milliseconds, then 74 random bits. Time-ordered, so ids sort
/// by check start, and unique across agents.
std::string make_check_id(Timestamp t, std::mt19937_64& rng);
/// A generator whose whole state comes from std::random_device, for make_check_id.
std::mt19937_64 seeded_rng();

}  // namespace vigil::checks
