// SPDX-License-Identifier: Apache-2.0
// libFuzzer: any bytes as a schema registry's answer to GET /schemas/ids/N. The answer is read by
// the guarded reader, its "schema" string compiled as a JSON Schema (RapidJSON's SchemaDocument)
// and a record checked against it. Nothing may crash or hang; a schema the registry sends is
// its business, so a refusal is fine, a crash is not. Input: the answer's body, or, when it does
// not start with '{', the bytes as the schema text itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "schema_registry.hpp"
#include "untrusted_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    std::string schema = bytes;
    rapidjson::Document answer;
    if (!vigil::json::parse(bytes, answer) && answer.IsObject() && answer.HasMember("schema") &&
        answer["schema"].IsString()) {
        schema.assign(answer["schema"].GetString(), answer["schema"].GetStringLength());
    }
    std::string error;
    auto v = vigil::registry::Validator::compile(schema, error);
    if (!v) {
        if (error.empty()) {
            std::abort();
        }
        return 0;
    }
    for (const char* doc : {R"({"name":"a","url":"u","response_time":1.5,"status_code":200,"regex":null,)"
                            R"("regex_check":null,"timestamp":"2026-01-01T00:00:00Z"})",
                            "[1,\"x\",{\"a\":[null,true]}]", "\"text\"", "-0.5e-3"}) {
        (void)v->check(doc);
    }
    return 0;
}
