// SPDX-License-Identifier: Apache-2.0
// Everything a site, a probe or an operator chose (names, URLs, errors) reaches the page through
// these: a site named <script>alert(1)</script> is shown as those characters.
#pragma once

#include <string>
#include <string_view>

namespace vigil::status_page {

/// Text for an HTML element or a quoted attribute: & < > " ' replaced by entities.
std::string html(std::string_view text);
/// One path segment or query value: everything but unreserved characters percent-encoded.
std::string url_component(std::string_view text);

}  // namespace vigil::status_page
