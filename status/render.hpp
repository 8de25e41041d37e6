// SPDX-License-Identifier: Apache-2.0
// The pages and the API's answers, made from what the store read. Server-rendered HTML with
// inline SVG and CSS (no script, no front-end build); JSON with RapidJSON's writer. `public_view`
// leaves out URLs and error details.
#pragma once

#include <string>

#include "store.hpp"

namespace vigil::status_page {

struct View {
    std::string title = "Status";
    bool public_view = false;
};

std::string overview_html(const View& v, const SiteQuery& q, const SiteList& list);
std::string site_html(const View& v, const SiteDetail& d);
std::string message_html(const View& v, const std::string& heading, const std::string& text);

std::string sites_json(const View& v, const SiteQuery& q, const SiteList& list);
std::string site_json(const View& v, const SiteDetail& d);
std::string error_json(const std::string& message);

}  // namespace vigil::status_page
