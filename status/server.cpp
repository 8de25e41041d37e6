// SPDX-License-Identifier: Apache-2.0
#include "server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/core.h>

#include "openapi.hpp"
#include "utf8.hpp"
#include "metrics_server.hpp"

namespace vigil::status_page {

namespace {

constexpr int kMaxPerPage = 500;
constexpr unsigned kMaxConnections = 256;
constexpr std::size_t kMaxQueryValue = 512, kMaxPath = 2048;

// A request's path and query values reach SQL: PostgreSQL refuses text that is not UTF-8 with an
// error that costs the connection, and nothing legitimate is longer than these bounds.
std::optional<std::string> unfit_request(MHD_Connection* c, const char* path) {
    if (std::strlen(path) > kMaxPath || !utf8_valid(path)) {
        return std::string("the path is not UTF-8 or is over 2048 bytes");
    }
    std::optional<std::string> why;
    MHD_get_connection_values(
        c, MHD_GET_ARGUMENT_KIND,
        [](void* out, MHD_ValueKind, const char* key, const char* value) {
            std::string_view k = key != nullptr ? key : "", v = value != nullptr ? value : "";
            if (!utf8_valid(k) || !utf8_valid(v) || k.size() > kMaxQueryValue || v.size() > kMaxQueryValue) {
                *static_cast<std::optional<std::string>*>(out) =
                    fmt::format("every query key and value must be UTF-8 of at most {} bytes", kMaxQueryValue);
                return MHD_NO;
            }
            return MHD_YES;
        },
        &why);
    return why;
}

// An integer query value from 1 to `most`: `fallback` when absent, nullopt when not one.
std::optional<int> positive(const char* text, int fallback, int most) {
    if (text == nullptr) {
        return fallback;
    }
    int v = 0;
    auto end = text + std::strlen(text);
    auto [p, ec] = std::from_chars(text, end, v);
    if (ec != std::errc() || p != end || v < 1 || v > most) {
        return std::nullopt;
    }
    return v;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Server::Answer Server::answer(const std::string& path, const std::function<const char*(const char*)>& arg) {
    bool api = starts_with(path, "/api/");
    auto failed = [&](const Status& st) {
        // The database's own words stay in the log, not on a page anyone may read.
        fmt::print(stderr, "vigil-status-page: {}\n", st.message());
        return api ? Answer{503, error_json("the database does not answer"), "application/json"}
                   : Answer{503, message_html(view_, "Unavailable",
                                              "The status database does not answer. Try again in a moment.")};
    };
    if (path == "/healthz") {
        return {200, "ok\n", "text/plain; charset=utf-8"};
    }
    if (path == "/favicon.svg" || path == "/favicon.ico") {
        return {200,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><circle cx=\"8\" cy=\"8\" r=\"7\" "
                "fill=\"#1a7f37\"/></svg>",
                "image/svg+xml"};
    }
    if (path == "/api/openapi.yaml") {
        return {200, std::string(kOpenApi), "application/yaml"};
    }
    if (path == "/" || path == "/api/sites") {
        SiteQuery q;
        auto bad = [&](const std::string& why) {
            return api ? Answer{400, error_json(why), "application/json"}
                       : Answer{400, message_html(view_, "Bad request", why)};
        };
        const char* state = arg("state");
        q.state = state ? state : "";
        if (!q.state.empty() && q.state != "up" && q.state != "down" && q.state != "degraded") {
            return bad("state must be up, down or degraded");
        }
        const char* search = arg("q");
        q.search = search ? search : "";
        const char* group = arg("group");
        q.group = group ? group : "";
        auto page = positive(arg("page"), 1, 1'000'000);
        auto per_page = positive(arg("per_page"), 50, kMaxPerPage);
        if (!page) {
            return bad("page must be an integer from 1 to 1000000");
        }
        if (!per_page) {
            return bad(fmt::format("per_page must be an integer from 1 to {}", kMaxPerPage));
        }
        q.page = *page;
        q.per_page = *per_page;
        SiteList list;
        if (auto st = store_.list(q, list); !st.ok()) {
            return failed(st);
        }
        return api ? Answer{200, sites_json(view_, q, list), "application/json"}
                   : Answer{200, overview_html(view_, q, list)};
    }
    for (const char* prefix : {"/sites/", "/api/sites/"}) {
        if (starts_with(path, prefix) && path.size() > std::strlen(prefix)) {
            auto name = path.substr(std::strlen(prefix));
            SiteDetail d;
            bool found = false;
            if (auto st = store_.site(name, d, found); !st.ok()) {
                return failed(st);
            }
            if (!found) {
                return api ? Answer{404, error_json("no such site"), "application/json"}
                           : Answer{404, message_html(view_, "Not found", "No site is named " + name + ".")};
            }
            return api ? Answer{200, site_json(view_, d), "application/json"} : Answer{200, site_html(view_, d)};
        }
    }
    return api ? Answer{404, error_json("no such resource"), "application/json"}
               : Answer{404, message_html(view_, "Not found", "There is no page here.")};
}

MHD_Result Server::handle(void* self, MHD_Connection* c, const char* url, const char* method, const char*, const char*,
                          size_t*, void**) {
    auto* server = static_cast<Server*>(self);
    Answer a;
    if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
        a = {405, "GET only\n", "text/plain; charset=utf-8"};
    } else if (auto why = unfit_request(c, url)) {
        a = std::string_view(url).rfind("/api/", 0) == 0
                ? Answer{400, error_json(*why), "application/json"}
                : Answer{400, message_html(server->view_, "Bad request", *why)};
    } else {
        a = server->answer(url,
                           [c](const char* key) { return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key); });
    }
    MHD_Response* r = MHD_create_response_from_buffer(a.body.size(), a.body.data(), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", a.type);
    // Nothing of the page runs script or loads from elsewhere; say so to the browser too.
    MHD_add_response_header(
        r, "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (a.status == 405) {
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    }
    MHD_Result ok = MHD_queue_response(c, a.status, r);
    MHD_destroy_response(r);
    return ok;
}

Server::~Server() {
    if (daemon_ != nullptr) {
        MHD_stop_daemon(daemon_);
    }
}

Status Server::start(const std::string& host, unsigned short port, unsigned threads, unsigned per_ip) {
    sockaddr_storage addr{};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    bool ipv6 = false;
    if (!telemetry::socket_address({host, port}, addr, ipv6)) {
        return Status::error(fmt::format("\"{}\" is not an IP address", host));
    }
    if (ipv6) {
        flags |= MHD_USE_IPv6;
    }
    errno = 0;
    daemon_ = MHD_start_daemon(flags, port, nullptr, nullptr, &handle, this, MHD_OPTION_SOCK_ADDR, &addr,
                               MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
                               // A client trickling a header line every few seconds (slowloris) holds
                               // at most `per_ip` of them, and each only while it sends something at
                               // least every 10 s: the others' requests are answered meanwhile.
                               MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                               MHD_OPTION_END);
    if (daemon_ == nullptr) {
        return Status::error(fmt::format("cannot listen on {}:{}: {}", host, port,
                                         errno ? std::strerror(errno) : "libmicrohttpd refused"));
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port_ = info != nullptr ? info->port : port;
    return Status::success();
}

}  // namespace vigil::status_page
