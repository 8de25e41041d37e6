// SPDX-License-Identifier: Apache-2.0
#include "message.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include <fmt/core.h>

namespace vigil::plugins::webhook_sink {

namespace {

std::string lasted(Timestamp since, Timestamp at) {
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(at - since).count();
    if (minutes < 1) {
        return "under a minute";
    }
    if (minutes < 120) {
        return fmt::format("{} min", minutes);
    }
    return fmt::format("{} h {} min", minutes / 60, minutes % 60);
}

std::string slack_text(const SiteEvent& e) {
    const char* mark = e.to == "down"       ? ":red_circle:"
                       : e.to == "degraded" ? ":large_yellow_circle:"
                                            : ":large_green_circle:";
    if (e.to == "up") {
        return fmt::format("{} *{}* is up again after {} {} ({})\n{}", mark, e.site, lasted(e.since, e.at), e.from,
                           e.url, e.reason);
    }
    return fmt::format("{} *{}* is {}: {} ({})\n{}", mark, e.site, e.to, e.cause.value_or("unknown"), e.url, e.reason);
}

}  // namespace

std::string body_of(const SiteEvent& event, Format format) {
    if (format == Format::Json) {
        return encode_event_json(event);
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto text = slack_text(event);
    w.StartObject();
    w.Key("text");
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

std::string signature(const std::string& key, const std::string& body) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
         body.size(), mac, &n);
    std::string out = "sha256=";
    for (unsigned int i = 0; i < n; ++i) {
        out += fmt::format("{:02x}", mac[i]);
    }
    return out;
}

}  // namespace vigil::plugins::webhook_sink
