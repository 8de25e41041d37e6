// SPDX-License-Identifier: Apache-2.0
// One check in flight: a curl easy handle set up from a Site, the body read so far, and the
// extraction of curl's measurements into an Outcome once it finishes.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "http_check_config.hpp"
#include "result.hpp"
#include "schedule.hpp"

namespace vigil::plugins::http_check {

struct Transfer {
    CURL* easy = nullptr;  // owned by the pool, lent for the check
    std::shared_ptr<const Site> site;
    Time scheduled{};
    Time started{};
    Timestamp started_wall{};
    std::string body;
    std::uint64_t received = 0;
    bool truncated = false;
    curl_slist* headers = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {};

    Transfer() = default;
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer();

    /// Sets every option of the easy handle for this site. Connections are never reused and
    /// DNS is never cached, so each check measures what a new visitor would see.
    void configure(CURL* handle);
    /// Clears the check's state (keeping the body buffer's capacity) for reuse.
    void reset();
    /// curl's measurements and our body, once curl reported the transfer done with `code`.
    Outcome outcome(CURLcode code) const;
};

}  // namespace vigil::plugins::http_check
