// SPDX-License-Identifier: Apache-2.0
// What a response must hold beyond its status and a regex: values at JSON pointers of the body
// (`json:`) and response headers (`expect_headers:`). Read and compiled at load; judged by pure
// functions on what a transfer observed, so every case is table-tested.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "vigil/config.hpp"

namespace vigil::plugins::http_check {

extern const OptionSpec kJsonAssertionOptions[];
extern const OptionSpec kHeaderAssertionOptions[];

/// `{pointer: /queue/depth, below: 100}`: every operator given must hold.
struct JsonAssertion {
    std::string pointer;  // RFC 6901, as written ("" is the whole document)
    std::optional<std::string> equals;
    std::optional<std::string> not_equals;
    std::optional<double> below;
    std::optional<double> above;
    std::optional<bool> exists;
    std::optional<std::string> matches_text;
    std::shared_ptr<const re2::RE2> matches;

    bool operator==(const JsonAssertion& o) const;
};

/// `{name: content-type, matches: "^text/html"}`; `absent: true` turns it around: the header must
/// not be there (or, with `matches`, no value of it may match).
struct HeaderAssertion {
    std::string name;
    std::optional<std::string> matches_text;
    std::shared_ptr<const re2::RE2> matches;
    bool absent = false;

    bool operator==(const HeaderAssertion& o) const;
};

using ResponseHeaders = std::vector<std::pair<std::string, std::string>>;

/// Reads the `json` list of `node` (a site or the plugin's section). Errors go to `diags`,
/// located; returns nullopt if there was any.
std::optional<std::vector<JsonAssertion>> read_json_assertions(const ConfigNode& node, Diagnostics& diags);
std::optional<std::vector<HeaderAssertion>> read_header_assertions(const ConfigNode& node, Diagnostics& diags);

/// The largest body that `json:` assertions parse (the guarded reader's size bound): a larger
/// one fails them ("body is not JSON: a document of N bytes, over the limit of ...").
inline constexpr std::size_t kMaxJsonBody = std::size_t{8} << 20;

/// The first JSON assertion that fails on `body`, as one line ("json /status is \"DOWN\", not
/// \"UP\""), or nullopt when all hold. A body that is not JSON fails every list that is not empty.
/// `truncated`: the body was cut at max_body (said in the detail, since that is then the cause).
std::optional<std::string> failed_json_assertion(const std::vector<JsonAssertion>& assertions, std::string_view body,
                                                 bool truncated);

/// The first header assertion that fails on `headers` (names compared without case).
std::optional<std::string> failed_header_assertion(const std::vector<HeaderAssertion>& assertions,
                                                   const ResponseHeaders& headers);

}  // namespace vigil::plugins::http_check
