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

// Slack's own escaping for message text: &, < and > (so "<!channel>" or "<https://x|y>" in a site's
// name is shown, not obeyed).
std::string slack_escaped(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
    }
    return out;
}

std::string slack_text(const SiteEvent& e) {
    const char* mark = e.to == "down"       ? ":red_circle:"
                       : e.to == "degraded" ? ":large_yellow_circle:"
                                            : ":large_green_circle:";
    if (e.to == "up") {
        return fmt::format("{} *{}* is up again after {} {} ({})\n{}", mark, slack_escaped(e.site),
                           lasted(e.since, e.at), slack_escaped(e.from), slack_escaped(e.url), slack_escaped(e.reason));
    }
    return fmt::format("{} *{}* is {}: {} ({})\n{}", mark, slack_escaped(e.site), slack_escaped(e.to),
                       slack_escaped(e.cause.value_or("unknown")), slack_escaped(e.url), slack_escaped(e.reason));
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
