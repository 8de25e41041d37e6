// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace vigil::checks {

/// Which addresses a check connects to (`ip_family`): in the order of its one_of values
/// (any, ipv4, ipv6), which the option binding maps to these enumerators.
enum class IpFamily { Any, V4, V6 };

}  // namespace vigil::checks
