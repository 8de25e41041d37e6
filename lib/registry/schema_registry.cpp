// SPDX-License-Identifier: Apache-2.0
#include "schema_registry.hpp"

#include <fmt/core.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "schema_shape.hpp"
#include "untrusted_json.hpp"
#include "vigil/redact.hpp"

namespace vigil::registry {

namespace {
const char* const kWireFormats[] = {"confluent", "header", nullptr};
constexpr const char* kContentType = "Content-Type: application/vnd.schemaregistry.v1+json";
constexpr const char* kAccept = "Accept: application/vnd.schemaregistry.v1+json, application/json";
}  // namespace

#define VIGIL_REGISTRY_CONNECTION_OPTIONS                                                                         \
    {.key = "url",                                                                                                \
     .type = OptionType::String,                                                                                  \
     .required = true,                                                                                            \
     .description = "Base URL of the Confluent-compatible API, e.g. http://registry:8080/apis/ccompat/v7"},       \
        {.key = "username", .type = OptionType::String, .description = "HTTP Basic user name"},                   \
        {.key = "password", .type = OptionType::Secret, .description = "HTTP Basic password (or password_file)"}, \
        http::kCaFileOption, http::kTimeoutOption

const OptionSpec kSinkOptions[] = {
    VIGIL_REGISTRY_CONNECTION_OPTIONS,
    {.key = "subject",
     .type = OptionType::String,
     .default_value = "",
     .description = "Subject the record's schema is registered under; empty means <topic>-value"},
    {.key = "kind_subjects",
     .type = OptionType::Bool,
     .default_value = "true",
     .description = "Also register each kind's own schema (http, tcp, tls, dns, icmp) under "
                    "<topic>-vigil.check.<kind> and tag that kind's records with it; false: every record carries "
                    "the schema of subject"},
    {.key = "wire_format",
     .type = OptionType::String,
     .default_value = "confluent",
     .one_of = kWireFormats,
     .description = "confluent: byte 0 and the 4-byte schema id before the JSON; header: plain JSON, the id in a "
                    "vigil.schema.id header"},
    {},
};

const OptionSpec kSourceOptions[] = {
    VIGIL_REGISTRY_CONNECTION_OPTIONS,
    {},
};

std::optional<Options> read_options(const ConfigNode& node, Diagnostics& diags) {
    auto before = diags.error_count();
    Options o;
    o.where = node.location();
    o.path = node.path();
    o.url = node.get_string("url");
    if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
        diags.error(node.location_of("url"), node.path_of("url"),
                    fmt::format("\"{}\" is not an http:// or https:// URL", redact_url(o.url)));
    }
    while (!o.url.empty() && o.url.back() == '/') {
        o.url.pop_back();
    }
    o.http = http::post_options(node, diags);
    o.http.username = node.get_string("username");
    o.http.password = node.get_secret("password").reveal();
    o.http.max_body = 4 << 20;  // a schema is the answer, not a reason: keep it whole
    if (o.http.username.empty() != o.http.password.empty()) {
        diags.error(node.location_of("username"), node.path_of("username"), "username and password go together");
    }
    for (const auto* spec = node.table(); spec != nullptr && spec->key != nullptr; ++spec) {
        if (std::string_view(spec->key) == "wire_format") {
            o.subject = node.get_string("subject");
            o.kind_subjects = node.get_bool("kind_subjects");
            o.wire_format = node.get_string("wire_format") == "header" ? WireFormat::Header : WireFormat::Confluent;
        }
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return o;
}

Client::Client(Options options) : options_(std::move(options)), poster_(options_.http) {}

namespace {
// The registry's words: Confluent's and Apicurio's error bodies are {"error_code": N, "message": "..."}.
std::string said(const http::Response& r) {
    rapidjson::Document d;
    if (!json::parse(r.body, d) && d.IsObject() && d.HasMember("message") && d["message"].IsString()) {
        return fmt::format("{} (HTTP {})", d["message"].GetString(), r.status);
    }
    return fmt::format("HTTP {}: {}", r.status, r.summary());
}
}  // namespace

Client::Registered Client::register_schema(const std::string& subject, const std::string& schema) {
    Registered out;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("schemaType");
    w.String("JSON");
    w.Key("schema");
    w.String(schema.data(), static_cast<rapidjson::SizeType>(schema.size()));
    w.EndObject();
    auto url = fmt::format("{}/subjects/{}/versions", options_.url, subject);
    auto r = poster_.post(url, buf.GetString(), {kContentType, kAccept});
    if (!r.answered()) {
        out.error = fmt::format("registry {} did not answer: {}", redact_url(options_.url), r.error);
        return out;
    }
    if (r.status / 100 != 2) {
        out.error = said(r);
        // 5xx may heal by itself; a 4xx (incompatible, invalid, not allowed) will not.
        out.refused = r.status / 100 == 4 && r.status != 408 && r.status != 429;
        return out;
    }
    rapidjson::Document d;
    if (json::parse(r.body, d) || !d.IsObject() || !d.HasMember("id") || !d["id"].IsInt() || d["id"].GetInt() <= 0) {
        out.error = fmt::format("registry {} answered without a schema id: {}", redact_url(options_.url), r.summary());
        return out;
    }
    out.id = d["id"].GetInt();
    return out;
}

Client::Fetched Client::fetch(std::uint32_t id) {
    Fetched out;
    auto r = poster_.get(fmt::format("{}/schemas/ids/{}", options_.url, id), {kAccept});
    if (!r.answered()) {
        out.error = fmt::format("registry {} did not answer: {}", redact_url(options_.url), r.error);
        return out;
    }
    if (r.status == 404) {
        out.unknown = true;
        out.error = fmt::format("schema id {} is unknown to the registry: {}", id, said(r));
        return out;
    }
    if (r.status / 100 != 2) {
        out.error = fmt::format("schema id {}: {}", id, said(r));
        return out;
    }
    rapidjson::Document d;
    if (json::parse(r.body, d) || !d.IsObject() || !d.HasMember("schema") || !d["schema"].IsString()) {
        out.error = fmt::format("schema id {}: the registry's answer holds no schema: {}", id, r.summary());
        return out;
    }
    out.schema = std::string(d["schema"].GetString(), d["schema"].GetStringLength());
    return out;
}

void frame(std::uint32_t id, std::string_view payload, std::string& out) {
    out.push_back('\0');
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((id >> shift) & 0xff));
    }
    out.append(payload);
}

Unframed unframe(std::string_view message) {
    Unframed u;
    if (message.empty() || message[0] != '\0') {
        u.payload = message;
        return u;
    }
    if (message.size() < 5) {
        u.error = fmt::format("truncated Confluent framing: {} byte(s), 5 needed for the magic byte and schema id",
                              message.size());
        return u;
    }
    std::uint32_t id = 0;
    for (std::size_t i = 1; i < 5; ++i) {
        id = (id << 8) | static_cast<unsigned char>(message[i]);
    }
    u.id = id;
    u.payload = message.substr(5);
    return u;
}

struct Validator::Impl {
    rapidjson::Document doc;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
};

Validator::Validator() : impl_(std::make_unique<Impl>()) {}
Validator::~Validator() = default;

std::shared_ptr<const Validator> Validator::compile(const std::string& schema, std::string& error) {
    std::shared_ptr<Validator> v(new Validator());
    // The registry's answer: read by the guarded reader (lib/json) like any other untrusted JSON.
    if (auto e = json::parse(schema, v->impl_->doc)) {
        error = fmt::format("the schema is not JSON: {} at byte {}", e->reason, e->offset);
        return nullptr;
    }
    if (!v->impl_->doc.IsObject()) {
        error = "the schema is not a JSON object";
        return nullptr;
    }
    if (auto problem = schema_shape_problem(v->impl_->doc)) {
        error = "the schema cannot be used: " + *problem;
        return nullptr;
    }
    v->impl_->schema = std::make_unique<rapidjson::SchemaDocument>(v->impl_->doc);
    return v;
}

std::optional<std::string> Validator::check(std::string_view json) const {
    // The document is read first by the guarded reader, then walked by the validator: its
    // nesting is bounded (RapidJSON's validator is quadratic in depth) and no number reaches
    // RapidJSON's conversions.
    rapidjson::Document doc;
    if (auto e = json::parse(json, doc)) {
        return fmt::format("not JSON: {} at byte {}", e->reason, e->offset);
    }
    rapidjson::SchemaValidator validator(*impl_->schema);
    if (doc.Accept(validator)) {
        return std::nullopt;
    }
    if (!validator.IsValid()) {
        rapidjson::StringBuffer at, rule;
        validator.GetInvalidDocumentPointer().StringifyUriFragment(at);
        validator.GetInvalidSchemaPointer().StringifyUriFragment(rule);
        std::string where = at.GetSize() > 1 ? std::string(at.GetString() + 1, at.GetSize() - 1) : "/";
        return fmt::format("{} at {} (schema {})", validator.GetInvalidSchemaKeyword(), where, rule.GetString());
    }
    return "not valid against the schema";
}

}  // namespace vigil::registry
