// SPDX-License-Identifier: Apache-2.0
// connect_check: an example source plugin built outside Vigil's tree. Every `interval` it opens a
// TCP connection to each target and emits one check record: response_time is the connect time,
// error is "connect" or "timeout" when it fails. Uses only the SDK (vigil/*.hpp) and POSIX.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "vigil/config_map.hpp"
#include "vigil/plugin.hpp"

namespace {

const vigil::OptionSpec kTargetOptions[] = {
    {.key = "name",
     .type = vigil::OptionType::String,
     .required = true,
     .description = "Target name (the record's name)"},
    {.key = "address", .type = vigil::OptionType::String, .required = true, .description = "host:port to connect to"},
    {},
};

const vigil::OptionSpec kOptions[] = {
    {.key = "targets",
     .type = vigil::OptionType::List,
     .required = true,
     .children = kTargetOptions,
     .description = "What to connect to: name and host:port"},
    {.key = "interval",
     .type = vigil::OptionType::Duration,
     .default_value = "30s",
     .description = "Time between rounds"},
    {.key = "timeout", .type = vigil::OptionType::Duration, .default_value = "5s", .description = "Connect timeout"},
    {},
};

struct Target {
    std::string name, host, port;
};

// Connects once; returns the milliseconds it took, or sets `error` and `detail`.
double connect_once(const Target& t, std::chrono::milliseconds timeout, std::string& error, std::string& detail) {
    auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &found); rc != 0) {
        error = "dns";
        detail = ::gai_strerror(rc);
        return elapsed();
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);
    int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = "other";
        detail = std::strerror(errno);
        return elapsed();
    }
    if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
        error = "connect";
        detail = std::strerror(errno);
    } else {
        pollfd p{fd, POLLOUT, 0};
        int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        if (ready == 0) {
            error = "timeout";
            detail = fmt::format("no connection within {} ms", timeout.count());
        } else if (so_error != 0) {
            error = "connect";
            detail = std::strerror(so_error);
        }
    }
    ::close(fd);
    return elapsed();
}

class TcpCheck final : public vigil::Source {
  public:
    TcpCheck(std::vector<Target> targets, vigil::Duration interval, vigil::Duration timeout, std::string agent)
        : targets_(std::move(targets)), interval_(interval), timeout_(timeout), agent_(std::move(agent)) {}

    bool supports_once() const override { return true; }

    vigil::Status run(vigil::Emitter& out, const vigil::StopToken& stop, const vigil::RunOptions& options) override {
        std::uint64_t round = 0;
        do {
            vigil::Batch batch;
            for (const auto& t : targets_) {
                vigil::CheckRecord r;
                r.name = t.name;
                r.url = "tcp://" + t.host + ":" + t.port;
                r.timestamp = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
                std::string error, detail;
                r.response_time =
                    connect_once(t, std::chrono::duration_cast<std::chrono::milliseconds>(timeout_), error, detail);
                r.ok = error.empty();
                if (!error.empty()) {
                    r.error = error;
                    r.error_detail = detail;
                }
                r.agent = agent_;
                r.check_id = fmt::format("tcp-{}-{}-{}", t.name, r.timestamp.time_since_epoch().count(), round);
                batch.records.push_back({std::move(r), {}});
            }
            ++round;
            if (!out.emit(std::move(batch), [](vigil::AckStatus) {})) {
                break;
            }
        } while (!options.once && !stop.wait_for(interval_));
        return vigil::Status::success();
    }

  private:
    std::vector<Target> targets_;
    vigil::Duration interval_, timeout_;
    std::string agent_;
};

struct Config {
    std::vector<Target> targets;
    vigil::Duration interval{}, timeout{};
};

// interval and timeout go straight into Config (the SDK's config_map); targets need a split.
const vigil::Bound<Config> kBound[] = {
    vigil::bind<&Config::interval>("interval", {.above_zero = true}),
    vigil::bind<&Config::timeout>("timeout", {.above_zero = true}),
};

// The SDK's typed factory does the rest: nullopt here (with the errors in diags) and no plugin is
// made; otherwise make() builds it from the Config.
std::optional<Config> parse(const vigil::ConfigNode& node, vigil::Diagnostics& diags) {
    Config c;
    for (const auto& item : node.items("targets")) {
        auto address = item.get_string("address");
        auto colon = address.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
            diags.error(item.location_of("address"), item.path_of("address"),
                        fmt::format("\"{}\" is not host:port", address));
            continue;
        }
        c.targets.push_back({item.get_string("name"), address.substr(0, colon), address.substr(colon + 1)});
    }
    if (!vigil::load_bound<Config>(kBound, node, c, diags) || diags.has_errors()) {
        return std::nullopt;
    }
    return c;
}

std::unique_ptr<vigil::Source> make(const vigil::PluginContext& ctx, Config c) {
    return std::make_unique<TcpCheck>(std::move(c.targets), c.interval, c.timeout, ctx.agent);
}

}  // namespace

VIGIL_PLUGIN({
    .name = "connect_check",
    .kind = vigil::PluginKind::Source,
    .version = "1.0.0",
    .description = "Example out-of-tree plugin: TCP connect checks",
    .stability = vigil::Stability::Alpha,
    .options = kOptions,
    .make_source = &vigil::typed_factory<vigil::Source, parse, make>,
})
