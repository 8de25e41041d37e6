// SPDX-License-Identifier: Apache-2.0
// vigil-status-page: the status page, served from PostgreSQL. A program of its own, not an agent
// mode: it runs no pipeline, loads no plugin, needs only a read-only database role and its own
// systemd unit, and the agent does not grow an HTTP application.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "secret_file.hpp"
#include "server.hpp"
#include "store.hpp"
#include "metrics_server.hpp"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitRuntime = 1;
constexpr int kExitInternal = 70;

int run(int argc, char** argv) {
    std::string url, url_file, listen = "127.0.0.1:8080";
    vigil::status_page::View view;
    unsigned threads = 4, per_ip = 16;
    CLI::App app{"Vigil's status page: each site's state, uptime, response times and incidents, from PostgreSQL",
                 "vigil-status-page"};
    auto* url_opt = app.add_option("--database-url", url,
                                   "libpq URL of the database (default: $DATABASE_URL); visible in ps, so prefer "
                                   "DATABASE_URL or --database-url-file");
    app.add_option("--database-url-file", url_file, "File holding the libpq URL (for example a systemd credential)")
        ->excludes(url_opt);
    app.add_option("--listen", listen, "Address and port to serve on (a literal address)")->capture_default_str();
    app.add_option("--title", view.title, "The page's title")->capture_default_str();
    app.add_flag("--public", view.public_view, "Hide site URLs and error details (for a page anyone may read)");
    app.add_option("--threads", threads, "Threads answering requests (and database connections)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--max-connections-per-ip", per_ip,
                   "Connections one client address may hold open (0: no limit; behind a reverse proxy every "
                   "request comes from its address)")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    app.footer("Exit codes: 0 stopped by SIGINT or SIGTERM; 1 cannot start; 64 bad command line; 70 internal error.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitUsage;
    }
    if (!url_file.empty()) {
        std::string error;
        auto content = vigil::config::read_secret_file(std::filesystem::current_path(), url_file, error);
        if (!content) {
            std::cerr << "vigil-status-page: error: --database-url-file: " << error << '\n';
            return kExitUsage;
        }
        url = *content;
    }
    if (url.empty()) {
        const char* env = std::getenv("DATABASE_URL");
        url = env != nullptr ? env : "";
    }
    if (url.empty()) {
        std::cerr << "vigil-status-page: error: no database: set DATABASE_URL, or pass --database-url-file FILE\n";
        return kExitUsage;
    }
    auto address = vigil::telemetry::parse_listen(listen);
    if (!address) {
        std::cerr << "vigil-status-page: error: --listen: \"" << listen
                  << "\" is not ADDRESS:PORT with a literal address (127.0.0.1:8080, [::1]:8080)\n";
        return kExitUsage;
    }
    // Signals are taken by sigwait below, not by a handler, in every thread started after this.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    vigil::status_page::Store store(vigil::Secret(url), static_cast<int>(threads));
    std::string warning;
    if (auto st = store.check(warning); !st.ok()) {
        std::cerr << "vigil-status-page: error: " << st.message() << '\n';
        return kExitRuntime;
    }
    if (!warning.empty()) {
        std::cerr << "vigil-status-page: warning: " << warning << '\n';
    }
    vigil::status_page::Server server(store, view);
    if (auto st = server.start(address->host, address->port, threads, per_ip); !st.ok()) {
        std::cerr << "vigil-status-page: error: --listen: " << st.message() << '\n';
        return kExitRuntime;
    }
    auto shown = address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host;
    std::cout << fmt::format("vigil-status-page: serving http://{}:{}/", shown, server.port()) << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "vigil-status-page: internal error: " << e.what() << '\n';
        return kExitInternal;
    }
}
