// SPDX-License-Identifier: Apache-2.0
// The host names of one prober's checks, looked up off its thread (Resolver) and taken back on
// it: the resolver is made at the first name and watched on the prober's epoll set; a check
// whose attempt ended meanwhile has its lookup's result dropped.
#pragma once

#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include <fmt/core.h>

#include "address_resolver.hpp"

namespace vigil::checks {

/// `Check` has a `std::uint64_t token` (0: no lookup) and a `std::optional<double> dns_ms`.
template <typename Check>
class Lookups {
  public:
    /// Starts looking up `host` for `c`; false and `why` when no resolver can start. The
    /// resolver's descriptor carries `mark` in epoll: on its event, call take().
    bool submit(int epoll, epoll_data_t mark, Check& c, const std::string& host, IpFamily family, std::string& why) {
        if (!resolver_) {
            try {
                resolver_ = std::make_unique<Resolver>();
            } catch (const std::exception& e) {
                why = fmt::format("cannot start the resolver: {}", e.what());
                return false;
            }
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data = mark;
            if (epoll_ctl(epoll, EPOLL_CTL_ADD, resolver_->fd(), &ev) != 0) {
                why = fmt::format("cannot watch the resolver: {}", std::strerror(errno));
                resolver_.reset();
                return false;
            }
        }
        c.token = ++next_token_;
        waiting_.emplace(c.token, &c);
        resolver_->submit(c.token, host, family);
        return true;
    }

    /// `c`'s attempt ended: its lookup's result, if one comes, is dropped.
    void cancel(const Check& c) {
        if (c.token != 0) {
            waiting_.erase(c.token);
        }
    }

    /// Calls done(check, resolution) for each finished lookup of a check still waiting for it.
    template <typename Done>
    void take(Done&& done) {
        if (!resolver_) {
            return;
        }
        for (auto& r : resolver_->take()) {
            auto it = waiting_.find(r.token);
            if (it == waiting_.end()) {
                continue;  // that check timed out meanwhile
            }
            Check& c = *it->second;
            waiting_.erase(it);
            done(c, r);
        }
    }

    /// take() for checks that go on to the first address: `dns_ms` set, then reached(check,
    /// address), or failed(check, why) when the name has no address.
    template <typename Reached, typename Failed>
    void take_first(Reached&& reached, Failed&& failed) {
        take([&](Check& c, const Resolution& r) {
            c.dns_ms = r.ms;
            if (r.addresses.empty()) {
                failed(c, r.error);
            } else {
                reached(c, r.addresses.front());
            }
        });
    }

  private:
    std::unique_ptr<Resolver> resolver_;  // made at the first host name
    std::unordered_map<std::uint64_t, Check*> waiting_;
    std::uint64_t next_token_ = 0;
};

}  // namespace vigil::checks
