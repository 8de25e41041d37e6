// SPDX-License-Identifier: Apache-2.0
#include "resolver.hpp"

#include <curl/curl.h>

namespace vigil::plugins::http_check {

std::pair<std::string, std::string> host_and_port(const std::string& url) {
    std::pair<std::string, std::string> out;
    CURLU* u = curl_url();
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
        char *host = nullptr, *port = nullptr;
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        if (host != nullptr && port != nullptr) {
            out = {host, port};
        }
        curl_free(host);
        curl_free(port);
    }
    curl_url_cleanup(u);
    return out;
}

}  // namespace vigil::plugins::http_check
