// SPDX-License-Identifier: Apache-2.0
#include "http_post.hpp"

#include <curl/curl.h>

#include <filesystem>

#include <fmt/core.h>

#include "vigil/config_map.hpp"
#include "vigil/redact.hpp"
#include "vigil/text.hpp"

namespace vigil::http {

namespace {

struct Kept {
    std::string* body;
    std::size_t max;
};

std::size_t keep_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* kept = static_cast<Kept*>(user);
    auto bytes = size * n;
    if (kept->body->size() < kept->max) {
        kept->body->append(data, std::min(bytes, kept->max - kept->body->size()));
    }
    return bytes;
}

struct HeaderList {
    curl_slist* list = nullptr;
    ~HeaderList() { curl_slist_free_all(list); }
};

}  // namespace

PostOptions post_options(const ConfigNode& node, Diagnostics& diags) {
    using namespace std::chrono_literals;
    static const Bound<PostOptions> kBound[] = {
        bind<&PostOptions::timeout>("timeout", {.at_least = 100ms}),
        bind<&PostOptions::ca_file>("ca_file"),
    };
    PostOptions o;
    load_bound<PostOptions>(kBound, node, o, diags);
    if (!o.ca_file.empty()) {
        o.ca_file = node.resolve_path(o.ca_file).string();
        if (!std::filesystem::is_regular_file(o.ca_file)) {
            diags.error(node.location_of("ca_file"), node.path_of("ca_file"),
                        fmt::format("\"{}\" is not a file", o.ca_file));
        }
    }
    return o;
}

std::string Response::summary() const {
    auto line = body.substr(0, body.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
    }
    return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

Poster::Poster(PostOptions options) : options_(std::move(options)), easy_(curl_easy_init()) {}

Poster::~Poster() {
    if (easy_ != nullptr) {
        curl_easy_cleanup(static_cast<CURL*>(easy_));
    }
}

Response Poster::post(const std::string& url, const std::string& body, const std::vector<std::string>& headers) {
    return request("POST", url, &body, headers);
}

Response Poster::get(const std::string& url, const std::vector<std::string>& headers) {
    return request("GET", url, nullptr, headers);
}

Response Poster::request(const char* method, const std::string& url, const std::string* body,
                         const std::vector<std::string>& headers) {
    Response out;
    auto* easy = static_cast<CURL*>(easy_);
    if (easy == nullptr) {
        out.error = "cannot create a libcurl handle";
        return out;
    }
    curl_easy_reset(easy);
    HeaderList list;
    for (const auto& h : headers) {
        // A line break would end this header and start one the caller never wrote.
        if (h.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            out.error = fmt::format("{} {}: a header holds a line break; nothing sent", method, url_origin(url));
            return out;
        }
        list.list = curl_slist_append(list.list, h.c_str());
    }
    // No "Expect: 100-continue": one round trip per request, whatever the body's size.
    list.list = curl_slist_append(list.list, "Expect:");
    char errbuf[CURL_ERROR_SIZE] = {0};
    Kept kept{&out.body, options_.max_body};
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    if (body != nullptr) {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    if (!options_.username.empty()) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(easy, CURLOPT_USERNAME, options_.username.c_str());
        curl_easy_setopt(easy, CURLOPT_PASSWORD, options_.password.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list.list);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &kept);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        easy, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count()));
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!options_.ca_file.empty()) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    auto rc = curl_easy_perform(easy);
    if (rc != CURLE_OK) {
        out.error =
            fmt::format("{} {}: {}", method, url_origin(url), errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
        return out;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out.status);
    return out;
}

}  // namespace vigil::http
