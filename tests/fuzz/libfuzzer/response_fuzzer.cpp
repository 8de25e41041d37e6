// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as what a website answered. http_check judges bodies and headers that a
// hostile or broken server chooses: the JSON assertions (RapidJSON over the body), the header
// assertions and the record with its excerpt must never crash, and the record must encode.
// Input: header lines ("Name: value\n") up to a blank line, then the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"
#include "vigil/record.hpp"

namespace {

using namespace vigil::plugins::http_check;

const Site& site() {
    static const Site s = [] {
        Site x;
        x.name = "fuzz";
        x.url = x.shown_url = "https://fuzz.example/";
        x.expect_status.ranges = {{200, 299}};
        x.max_body = 1 << 20;
        x.body_excerpt = true;
        for (const char* pointer : {"/status", "/a/0/b", "", "/~1x~0y", "/queue/depth"}) {
            JsonAssertion a;
            a.pointer = pointer;
            a.exists = true;
            x.json.push_back(a);
        }
        JsonAssertion eq;
        eq.pointer = "/status";
        eq.equals = "UP";
        eq.below = 1e9;
        eq.matches_text = "^U";
        eq.matches = std::make_shared<re2::RE2>("^U");
        x.json.push_back(eq);
        HeaderAssertion h;
        h.name = "content-type";
        h.matches_text = "json";
        h.matches = std::make_shared<re2::RE2>("json");
        x.expect_headers.push_back(h);
        return x;
    }();
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    Outcome o;
    o.status = 200;
    o.http_version = "1.1";
    auto end = in.find("\n\n");
    std::string_view head = end == std::string_view::npos ? std::string_view() : in.substr(0, end);
    o.body = end == std::string_view::npos ? in : in.substr(end + 2);
    o.truncated = !o.body.empty() && o.body.front() == 'T';
    while (!head.empty()) {
        auto nl = head.find('\n');
        auto line = head.substr(0, nl);
        auto colon = line.find(':');
        o.headers.emplace_back(std::string(line.substr(0, colon)),
                               colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
        head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    }
    (void)failed_json_assertion(site().json, o.body, o.truncated);
    (void)failed_header_assertion(site().expect_headers, o.headers);
    auto record = make_record(site(), o, vigil::Timestamp{}, 0, "id", "fuzz");
    if (!vigil::decode_json(vigil::encode_json(record))) {
        __builtin_trap();  // what the sinks receive must always be a valid record
    }
    return 0;
}
