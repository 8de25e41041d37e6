// SPDX-License-Identifier: Apache-2.0
// ip_mode: all: the worker resolves a site's name itself (on the resolver's thread, its answer
// read from the epoll set) and starts one check per address found.
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "worker.hpp"

namespace vigil::plugins::http_check {

std::optional<std::string> Worker::start_resolver() {
    try {
        resolver_ = std::make_unique<Resolver>();
    } catch (const std::exception& e) {  // no eventfd or thread
        return e.what();
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = resolver_->fd();
    if (system_calls().epoll_add(epoll_, resolver_->fd(), &ev) != 0) {
        std::string why = std::strerror(errno);  // before the resolver's teardown touches errno
        resolver_.reset();                       // unwatched, its answers would never be read
        return why;
    }
    return std::nullopt;
}

void Worker::resolve(Transfer* t) {
    if (!resolver_) {
        if (auto why = start_resolver()) {
            // This check fails; the next one tries again.
            Outcome out;
            out.code = CURLE_COULDNT_RESOLVE_HOST;
            out.curl_error = fmt::format("cannot start resolving for ip_mode: all: {}", *why);
            completed(t, std::move(out));
            return;
        }
    }
    auto token = ++next_token_;
    resolving_.emplace(token, t);
    resolver_->submit(token, host_and_port(t->site->url).first, t->site->ip_family);
}

// ip_mode: all: one check per address found, each connecting to its address by CONNECT_TO so
// the request, SNI and certificate checks stay the site's.
void Worker::resolved() {
    for (auto& r : resolver_->take()) {
        auto found = resolving_.find(r.token);
        if (found == resolving_.end()) {
            continue;
        }
        Transfer* first = found->second;
        resolving_.erase(found);
        if (!r.error.empty()) {
            Outcome out;
            out.code = CURLE_COULDNT_RESOLVE_HOST;
            out.curl_error = r.error;
            out.total_ms = r.ms;
            completed(first, std::move(out));
            continue;
        }
        auto [host, port] = host_and_port(first->site->url);
        // A name may resolve to hundreds of addresses (a hostile or broken zone): the first
        // kMaxAddresses are checked, as the resolver gave them.
        if (r.addresses.size() > kMaxAddresses) {
            r.addresses.resize(kMaxAddresses);
        }
        // Every transfer is made before any starts: a launch that fails completes (frees) its
        // transfer, and `first` may be that one.
        std::vector<Transfer*> transfers;
        for (std::size_t i = 0; i < r.addresses.size(); ++i) {
            Transfer* t = i == 0 ? first : adopt(first->site, first->scheduled, first->started);
            t->started_wall = first->started_wall;
            const auto& a = r.addresses[i];
            t->connect_to =
                fmt::format("{}:{}:{}:{}", host, port, a.find(':') != std::string::npos ? "[" + a + "]" : a, port);
            t->resolve_ms = r.ms;
            transfers.push_back(t);
        }
        for (auto* t : transfers) {
            launch(t);
        }
    }
}

}  // namespace vigil::plugins::http_check
