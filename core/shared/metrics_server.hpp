// SPDX-License-Identifier: Apache-2.0
// The agent's HTTP endpoint: Prometheus text on /metrics, liveness on /healthz. Served by
// libmicrohttpd on a thread of its own, so a slow scraper never touches the pipeline.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "vigil/status.hpp"

struct MHD_Daemon;
struct sockaddr_storage;

namespace vigil::telemetry {

struct ListenAddress {
    std::string host;         // an IPv4 or IPv6 literal
    unsigned short port = 0;  // 0 picks a free port
};

/// Parses "127.0.0.1:9464", "[::1]:9464" or ":9464" (all IPv4 interfaces). nullopt if malformed.
std::optional<ListenAddress> parse_listen(const std::string& text);

/// `a` as the socket address libmicrohttpd binds (MHD_OPTION_SOCK_ADDR); `ipv6` says whether it
/// needs MHD_USE_IPv6. false when the host is not an IP literal.
bool socket_address(const ListenAddress& a, sockaddr_storage& out, bool& ipv6);

class MetricsServer {
  public:
    MetricsServer() = default;
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// Binds and starts serving; an error names the address and the reason (address in use...).
    Status start(const ListenAddress& address);
    void stop();
    /// The port actually bound (useful with port 0).
    unsigned short port() const { return port_; }
    /// /healthz answers 200 while healthy, 503 otherwise (set false while draining).
    void set_healthy(bool healthy) { healthy_ = healthy; }
    bool healthy() const { return healthy_; }

  private:
    MHD_Daemon* daemon_ = nullptr;
    unsigned short port_ = 0;
    std::atomic<bool> healthy_{true};
};

}  // namespace vigil::telemetry
