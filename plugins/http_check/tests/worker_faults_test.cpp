// SPDX-License-Identifier: Apache-2.0
// A call the worker depends on that fails (curl refusing a handle, epoll refusing the resolver's
// descriptor) fails that one check, with a reason, and the site is checked again at its next
// slot: it is never left as a transfer that never ends, skipped as an overrun forever.
#include <catch2/catch.hpp>

#include <atomic>

#include "http_check.hpp"
#include "plugin_config.hpp"
#include "run_check.hpp"
#include "support.hpp"
#include "system_calls.hpp"

using namespace std::chrono_literals;
using namespace vigil::plugins::http_check;
using vigil::test::Capture;
using vigil::test::fixture;
using vigil::test::site;
using vigil::test::StopAfter;

namespace {

std::atomic<int> failures_left{0};

CURLMcode failing_add(CURLM* multi, CURL* easy) {
    return failures_left.fetch_sub(1) > 0 ? CURLM_OUT_OF_MEMORY : curl_multi_add_handle(multi, easy);
}
int failing_epoll_add(int epoll, int fd, epoll_event* event) {
    if (failures_left.fetch_sub(1) > 0) {
        errno = ENOSPC;
        return -1;
    }
    return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, event);
}

// Swaps the table for the test's lifetime.
struct Swapped {
    explicit Swapped(SystemCalls calls) : saved(system_calls()) { system_calls() = calls; }
    ~Swapped() { system_calls() = saved; }
    SystemCalls saved;
};

// Runs `section` for `for_how_long` and returns every record.
std::vector<vigil::CheckRecord> run_for(const std::string& section, vigil::Duration for_how_long) {
    auto s = vigil::test::check_section(section, kOptions, vigil::PluginKind::Source);
    REQUIRE_FALSE(s->diags.has_errors());
    auto config = parse_config(s->node, s->diags);
    REQUIRE(config);
    HttpCheck check(std::move(*config), "faults-test", "probe", vigil::Logger("faults-test"));
    Capture capture;
    StopAfter stop(for_how_long);
    REQUIRE(check.run(capture, stop, vigil::RunOptions{false}).ok());
    return capture.all();
}

}  // namespace

TEST_CASE("http_check: a handle curl refuses fails that check, and the site is checked again", "[integration]") {
    SystemCalls calls;
    calls.add_handle = failing_add;
    Swapped swapped(calls);
    failures_left = 1;
    auto records = run_for(
        "plugin: http_check\ninterval: 100ms\nworkers: 1\nsites:\n" + site("refused", fixture().url("/ok")), 1s);
    REQUIRE(records.size() >= 3);
    CHECK(records[0].ok == false);
    CHECK(records[0].error_detail.value_or("") == "cannot start the check: Out of memory");
    CHECK(records[1].ok == true);
    CHECK(records.back().ok == true);
}

TEST_CASE("http_check: ip_mode: all whose resolver cannot be watched fails that check, and the next resolves",
          "[integration]") {
    SystemCalls calls;
    calls.epoll_add = failing_epoll_add;
    Swapped swapped(calls);
    failures_left = 1;
    auto records = run_for("plugin: http_check\ninterval: 100ms\nworkers: 1\nip_mode: all\nsites:\n" +
                               site("unwatched", "http://localhost:" + std::to_string(fixture().http) + "/ok"),
                           1s);
    REQUIRE(records.size() >= 3);
    CHECK(records[0].ok == false);
    CHECK(records[0].error == "dns");
    CHECK_THAT(records[0].error_detail.value_or(""),
               Catch::Equals("cannot start resolving for ip_mode: all: No space left on device"));
    CHECK(records[1].ok == true);
    CHECK(records.back().ok == true);
}
