// SPDX-License-Identifier: Apache-2.0
#include "metrics_server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/core.h>

#include "telemetry/process_metrics.hpp"
#include "vigil/metrics.hpp"

namespace vigil::telemetry {

std::optional<ListenAddress> parse_listen(const std::string& text) {
    ListenAddress a;
    std::string port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        a.host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            return std::nullopt;
        }
        a.host = colon == 0 ? "0.0.0.0" : text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value > 65535) {
        return std::nullopt;
    }
    a.port = static_cast<unsigned short>(value);
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1 && inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) {
        return std::nullopt;  // a literal address: binding must not depend on DNS
    }
    return a;
}

bool socket_address(const ListenAddress& a, sockaddr_storage& out, bool& ipv6) {
    out = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    ipv6 = false;
    if (inet_pton(AF_INET, a.host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(a.port);
        return true;
    }
    if (inet_pton(AF_INET6, a.host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(a.port);
        ipv6 = true;
        return true;
    }
    return false;
}

namespace {

MHD_Result respond(MHD_Connection* c, unsigned status, const std::string& body, const char* type) {
    MHD_Response* r =
        MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

MHD_Result handle(void* self, MHD_Connection* c, const char* url, const char* method, const char*, const char*, size_t*,
                  void**) {
    auto* server = static_cast<MetricsServer*>(self);
    if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
        return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", "text/plain");
    }
    if (std::strcmp(url, "/metrics") == 0) {
        return respond(c, MHD_HTTP_OK, render_prometheus() + render_process_metrics(),
                       "text/plain; version=0.0.4; charset=utf-8");
    }
    if (std::strcmp(url, "/healthz") == 0) {
        return server->healthy() ? respond(c, MHD_HTTP_OK, "ok\n", "text/plain")
                                 : respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n", "text/plain");
    }
    return respond(c, MHD_HTTP_NOT_FOUND, "try /metrics or /healthz\n", "text/plain");
}

}  // namespace

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::start(const ListenAddress& a) {
    sockaddr_storage addr{};
    // epoll (MHD_USE_AUTO picks it on Linux), not select(): with a thousand checks in flight the
    // process holds more than FD_SETSIZE descriptors, and select() cannot watch a socket numbered
    // past 1,024, so libmicrohttpd would close such a scrape unanswered.
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    bool ipv6 = false;
    if (!socket_address(a, addr, ipv6)) {
        return Status::error(fmt::format("metrics: \"{}\" is not an IP address", a.host));
    }
    if (ipv6) {
        flags |= MHD_USE_IPv6;
    }
    errno = 0;
    daemon_ = MHD_start_daemon(
        flags, a.port, nullptr, nullptr, &handle, this, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, 64u,
        // One address (a slow or hostile client) holds at most 8 of the 64:
        // Prometheus scrapes over one, a health check over another.
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 8u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (daemon_ == nullptr) {
        return Status::error(fmt::format("metrics: cannot listen on {}:{}: {}", a.host, a.port,
                                         errno ? std::strerror(errno) : "libmicrohttpd refused"));
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port_ = info != nullptr ? info->port : a.port;
    return Status::success();
}

void MetricsServer::stop() {
    if (daemon_ != nullptr) {
        MHD_stop_daemon(daemon_);
        daemon_ = nullptr;
    }
}

}  // namespace vigil::telemetry
