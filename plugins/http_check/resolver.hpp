// SPDX-License-Identifier: Apache-2.0
// Where a URL connects to, as curl's CONNECT_TO names it; the resolver itself is shared
// (lib/checks/address_resolver.hpp).
#pragma once

#include <string>
#include <utility>

#include "address_resolver.hpp"

namespace vigil::plugins::http_check {

using checks::kMaxAddresses;
using checks::Resolution;
using checks::resolve_all;
using checks::Resolver;

/// The host and port a URL connects to (the port made explicit), as curl's CONNECT_TO names
/// them: an IPv6 literal keeps its brackets. Empty host when curl cannot parse the URL.
std::pair<std::string, std::string> host_and_port(const std::string& url);

}  // namespace vigil::plugins::http_check
