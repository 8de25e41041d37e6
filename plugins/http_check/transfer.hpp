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

using checks::Time;

/// curl_easy_reset, for a handle a Transfer configured: what the reset would leak is freed first.
void reset_handle(CURL* easy);

struct Transfer {
    CURL* easy = nullptr;  // owned by the pool, lent for the check
    std::shared_ptr<const Site> site;
    Time scheduled{};
    Time started{};
    Timestamp started_wall{};
    std::string body;
    std::uint64_t received = 0;
    bool truncated = false;
    curl_slist* headers = nullptr;  // the site's headers: sent to its own origin only
    curl_slist* bare = nullptr;     // what every hop gets (Connection: close)
    char errbuf[CURL_ERROR_SIZE] = {};
    // Redirects, followed here rather than by curl, which would send custom headers and the body
    // to any origin, repeat PUT or DELETE on every hop and follow https to http.
    int hops = 0;
    double earlier_ms = 0;  // the total time of the hops before this one
    bool raw_body = false;  // asked again without decoding: the encoding was one libcurl lacks
    std::string url;        // of the request in flight
    std::string refused;    // why a redirect was not followed (error=redirect), or empty
    int attempt = 1;        // 1 + retries made so far (retries keep `scheduled` and `started_wall`)
    // ip_mode: all: the address this transfer must connect to ("host:port:address:port", curl's
    // CONNECT_TO, so the Host header, SNI and certificate checks stay the site's), and how long
    // resolving the name took; empty and negative otherwise.
    std::string connect_to;
    double resolve_ms = -1;
    curl_slist* connect_to_list = nullptr;

    enum class Next {
        Done,      // a final response or a transport error: finish the check
        Follow,    // the handle is set up for the next hop: add it again
        Refused,   // a redirect the site's options forbid: finish with error=redirect
        TooMany,   // past max_redirects: finish with error=too_many_redirects
        TimedOut,  // the timeout passed between hops: finish with error=timeout
    };

    Transfer() = default;
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer();

    /// Sets every option of the easy handle for this site. Connections are never reused and
    /// DNS is never cached, so each check measures what a new visitor would see.
    void configure(CURL* handle);
    /// Clears the check's state (keeping the body buffer's capacity) for reuse.
    void reset();
    /// Before another attempt of the same check on the same handle: forgets what the failed one
    /// read and set (the handle must have been curl_easy_reset), keeps the attempt count.
    void rearm();
    /// Sets or clears the site's credentials (Basic, Bearer, client certificate) for the next
    /// request: set for the site's own origin, cleared for any other.
    void credentials(bool send);
    /// After curl reported a request done with `code`: whether the check goes on to a redirect's
    /// target, with the method, body and headers a browser would send there (301/302/303 turn
    /// into GET; 307/308 keep the method; the body and the site's headers go to its own origin
    /// only; https to http is refused unless allow_downgrade).
    Next next_hop(CURLcode code);
    /// Counts the request just done against the check's `timeout` and, when time is left, gives
    /// the next request what is left and forgets what this one read. false (errbuf says why,
    /// "... after N milliseconds, `doing`") when the check has no time left.
    bool charge_hop(const char* doing);
    /// curl's measurements and our body, once curl reported the transfer done with `code`.
    Outcome outcome(CURLcode code) const;
};

}  // namespace vigil::plugins::http_check
