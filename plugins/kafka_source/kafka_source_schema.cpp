// SPDX-License-Identifier: Apache-2.0
// kafka_source's schemas: the record's, compiled by the factory (validate: true), and those a
// framed message names, fetched from the registry once each; what a message's check comes to.
#include <charconv>

#include <fmt/core.h>

#include "kafka_source.hpp"
#include "vigil/record.hpp"
#include "vigil/redact.hpp"

namespace vigil::plugins::kafka_source {

std::unique_ptr<KafkaSource> make_kafka_source(Config config, std::string instance, Logger log, std::string& error,
                                               const std::string& record_schema) {
    std::shared_ptr<const registry::Validator> schema;
    if (config.validate) {
        std::string why;
        schema = registry::Validator::compile(record_schema.empty() ? record_json_schema() : record_schema, why);
        if (!schema) {
            error = fmt::format("validate: the record's JSON Schema does not compile: {}", why);
            return nullptr;
        }
    }
    return std::make_unique<KafkaSource>(std::move(config), std::move(instance), std::move(log), std::move(schema));
}

KafkaSource::Checked KafkaSource::schema_checked(const rd_kafka_message_t& m) {
    using Verdict = Checked::Verdict;
    std::string_view value(static_cast<const char*>(m.payload), m.payload != nullptr ? m.len : 0);
    if (value.size() > config_.max_message_bytes) {
        return {Verdict::Ok, value, {}};  // decode_message refuses it whole, without looking inside
    }
    auto u = registry::unframe(value);
    if (!u.error.empty()) {
        return {Verdict::Reject, {}, u.error};
    }
    auto id = u.id;
    rd_kafka_headers_t* headers = nullptr;
    const void* text = nullptr;
    std::size_t size = 0;
    if (!id && rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, registry::kSchemaIdHeader, &text, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string_view digits(static_cast<const char*>(text), text != nullptr ? size : 0);
        std::uint32_t n = 0;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || p != digits.data() + digits.size()) {
            return {Verdict::Reject,
                    {},
                    fmt::format("header {} \"{}\" is not a schema id", registry::kSchemaIdHeader,
                                std::string(digits.substr(0, 40)))};
        }
        id = n;
    }
    if (!config_.validate) {
        return {Verdict::Ok, u.payload, {}};
    }
    std::shared_ptr<const registry::Validator> schema = own_schema_;
    if (id) {
        if (auto got = schema_of(*id, schema); got.verdict != Verdict::Ok) {
            return got;
        }
    }
    if (!schema) {
        // make_kafka_source compiles the record's schema; a source built without it says so
        // per message rather than hold them all.
        return {Verdict::Reject, {}, "validate: no record schema to check against"};
    }
    if (auto failed = schema->check(u.payload)) {
        invalid_->inc();
        return {Verdict::Reject,
                {},
                id ? fmt::format("does not match schema {}: {}", *id, *failed)
                   : fmt::format("does not match the record's schema: {}", *failed)};
    }
    return {Verdict::Ok, u.payload, {}};
}

KafkaSource::Checked KafkaSource::schema_of(std::uint32_t id, std::shared_ptr<const registry::Validator>& schema) {
    using Verdict = Checked::Verdict;
    if (auto it = schemas_.find(id); it != schemas_.end()) {
        schema = it->second;
        return {};
    }
    if (auto it = unknown_schemas_.find(id); it != unknown_schemas_.end()) {
        return {Verdict::Reject, {}, it->second};
    }
    // A registry that does not answer holds reading: a valid record must not be dead-lettered for
    // it. Nothing is committed meanwhile, so a member that is away past max.poll.interval.ms and
    // leaves the group loses nothing either.
    auto backoff = std::chrono::milliseconds(500);
    for (;;) {
        auto fetched = registry_->fetch(id);
        if (fetched.schema) {
            std::string error;
            auto v = registry::Validator::compile(*fetched.schema, error);
            if (!v) {
                return {Verdict::Reject, {}, unknown_schemas_[id] = fmt::format("schema id {}: {}", id, error)};
            }
            log_.info("schema id {} fetched from {}", id, redact_url(registry_->options().url));
            schema = schemas_[id] = v;
            return {};
        }
        if (fetched.unknown) {
            return {Verdict::Reject, {}, unknown_schemas_[id] = fetched.error};
        }
        if (registry_complaint_.complain()) {
            log_.warn("schema id {}: {}; reading waits for the registry", id, fetched.error);
        }
        if (stop_ == nullptr || stop_->wait_for(backoff)) {
            return {Verdict::Stopping, {}, {}};
        }
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
    }
}

}  // namespace vigil::plugins::kafka_source
