// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes through the guarded JSON reader (lib/json), the one way Vigil reads JSON
// someone else wrote. It must never crash or hang; a refusal always says why; what it accepts
// writes back as JSON that it reads again to the same text (numbers included: std::from_chars and
// RapidJSON's shortest writer agree), and is then walked by the record schema's validator, as
// kafka_source's validate: true does, and read as the locations a site_state row holds (pg_sink
// writes them, pg_events and the status page read them back).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "location_notes.hpp"
#include "schema_registry.hpp"
#include "untrusted_json.hpp"
#include "vigil/record.hpp"

namespace {
std::string text_of(const rapidjson::Document& d) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    d.Accept(w);
    return {b.GetString(), b.GetSize()};
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto notes = vigil::pg::notes_from_json(bytes, error);
    auto names = vigil::pg::names_from_json(bytes, error);
    (void)notes;
    (void)names;
    static const auto schema = [] {
        std::string error;
        return vigil::registry::Validator::compile(vigil::record_json_schema(), error);
    }();
    rapidjson::Document doc;
    if (auto e = vigil::json::parse(bytes, doc)) {
        if (e->reason.empty() || e->offset > size || !doc.IsNull()) {
            std::abort();
        }
        return 0;
    }
    auto text = text_of(doc);
    rapidjson::Document again;
    if (vigil::json::parse(text, again) || text_of(again) != text) {
        std::abort();  // what was read must be written back as something read the same
    }
    (void)schema->check(text);
    return 0;
}
