// SPDX-License-Identifier: Apache-2.0
// One HTTP request at a time over a reused libcurl handle (keep-alive), for the plugins that talk
// to an HTTP API: alertmanager_sink and webhook_sink (POST), the schema registry client (POST, GET).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vigil/config.hpp"

namespace vigil::http {

struct PostOptions {
    Duration timeout = std::chrono::seconds(10);  // the whole request, connect included
    std::string ca_file;                          // empty: the system's trust store
    std::string username;                         // HTTP Basic credentials for every request, when set
    std::string password;
    std::size_t max_body = 4096;  // response bytes kept: enough to say why, unless the answer is the point
};

/// The `timeout` and `ca_file` options, for a plugin's option table.
inline constexpr OptionSpec kTimeoutOption{.key = "timeout",
                                           .type = OptionType::Duration,
                                           .default_value = "10s",
                                           .description = "Limit for each POST, connect included"};
inline constexpr OptionSpec kCaFileOption{.key = "ca_file",
                                          .type = OptionType::String,
                                          .default_value = "",
                                          .description = "CA bundle for an https endpoint; default: the system's"};
/// Reads the two options: a timeout under 100ms and a ca_file that is not a file are errors.
PostOptions post_options(const ConfigNode& node, Diagnostics& diags);

struct Response {
    long status = 0;    // the HTTP status; 0 when no answer came (`error` says why)
    std::string body;   // at most the first max_body bytes (4 KiB by default)
    std::string error;  // transport failure: "connect: Connection refused", "timeout after 10s"
    bool answered() const { return status != 0; }
    /// The body's first line, trimmed to 200 bytes: for messages.
    std::string summary() const;
};

class Poster {
  public:
    explicit Poster(PostOptions options);
    ~Poster();
    Poster(const Poster&) = delete;
    Poster& operator=(const Poster&) = delete;

    /// POSTs `body` to `url` with `headers` ("Name: value"). Never throws.
    Response post(const std::string& url, const std::string& body, const std::vector<std::string>& headers);
    /// GETs `url`. Never throws.
    Response get(const std::string& url, const std::vector<std::string>& headers = {});

  private:
    Response request(const char* method, const std::string& url, const std::string* body,
                     const std::vector<std::string>& headers);

    PostOptions options_;
    void* easy_ = nullptr;  // CURL*: libcurl's headers stay out of the plugins' headers
};

}  // namespace vigil::http
