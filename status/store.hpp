// SPDX-License-Identifier: Apache-2.0
// What the status page reads, and only reads: site_state (where each site stands),
// site_location_state (where it stands from each location), the rollups
// pg_sink keeps (metrics_hourly, metrics_daily), site_events (incidents) and, for one site, its
// latest row's certificate expiry. Connections are read-only (default_transaction_read_only)
// whatever the role may do, with a statement timeout, from a small pool shared by the server's
// threads.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pg_handles.hpp"
#include "vigil/config.hpp"
#include "vigil/status.hpp"
#include "vigil/sync.hpp"

namespace vigil::status_page {

/// A site as the overview lists it.
struct SiteSummary {
    std::string name, url, state, since;  // times: ISO 8601 UTC
    std::optional<std::string> cause, last_check, last_error, group;
    std::optional<double> uptime_24h;    // 0..1; none: no check in the window
    std::vector<std::string> locations;  // the locations behind a down or degraded state
    std::string kind = "http";           // what its checks check: http, tcp... (older rows: http)
};

/// One location's state of a site (site_location_state), "" for checks that name none.
struct LocationRow {
    std::string location, state, since;
    bool voting = true;  // false: silent past location_timeout, so not counted
    std::optional<std::string> cause, last_check, last_error;
    std::optional<double> uptime_24h;
};

struct SiteQuery {
    std::string search;  // substring of the name, any case
    std::string state;   // up, down, degraded, or empty for all
    std::string group;   // a site group (http_check's `group`), or empty for all
    int page = 1;
    int per_page = 50;
};

struct SiteList {
    std::vector<SiteSummary> sites;
    long long total = 0;              // matching sites, all pages
    long long counts[3] = {0, 0, 0};  // up, down, degraded among all sites
    std::vector<std::string> groups;  // every group a site has, for the filter
};

/// A period's figures from the rollups.
struct Window {
    long long checks = 0, ok_checks = 0;
    std::optional<double> uptime, p50, p95, avg;  // response times in ms
};

struct Day {
    std::string date;  // YYYY-MM-DD (UTC)
    long long checks = 0, ok_checks = 0;
};

struct Incident {
    std::string at, from, to, reason;
    std::optional<std::string> cause;
    std::optional<std::string> location;  // a location's own change; none: the site's
};

struct HourPoint {
    std::string hour;
    double avg_ms = 0;
    double uptime = 0;
};

/// What the latest check of a DNS or ICMP site measured (the figures that fit its kind).
struct LastResult {
    std::optional<std::string> rcode, answers;      // dns
    std::optional<double> packet_loss, rtt_avg_ms;  // icmp
};

struct SiteDetail {
    SiteSummary summary;
    Window h24, d7, d30, d90;
    std::vector<Day> days;         // the last 90, oldest first, days without data included
    std::vector<HourPoint> hours;  // the last 7 days, hours with checks only
    std::optional<std::string> tls_not_after;
    LastResult last_result;              // empty for http and tcp sites
    std::vector<Incident> incidents;     // newest first
    std::vector<LocationRow> locations;  // by name
};

class Store {
  public:
    Store(Secret url, int connections);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    /// Connects once and checks the tables; `warning` says when the role could write (the page
    /// should be given a read-only one: status/README.md).
    Status check(std::string& warning);
    Status list(const SiteQuery& q, SiteList& out);
    /// false in `found` for a site that has no state.
    Status site(const std::string& name, SiteDetail& out, bool& found);

  private:
    struct Lease;
    /// What the overview counts over all sites (or all that match): cached for kCountsFor,
    /// because counting is the one part of a page that reads every site, not an index range.
    struct Counts {
        std::chrono::steady_clock::time_point at;
        long long total = 0;
        long long by_state[3] = {0, 0, 0};
        std::vector<std::string> groups;
    };
    static constexpr std::chrono::seconds kCountsFor{10};
    pg::Conn acquire(std::string& error);
    void release(pg::Conn conn, bool broken);

    Secret url_;
    std::size_t max_idle_;
    Mutex mutex_;
    std::vector<pg::Conn> idle_ VIGIL_GUARDED_BY(mutex_);
    std::map<std::string, Counts> counts_ VIGIL_GUARDED_BY(mutex_);  // by search, state and group
};

}  // namespace vigil::status_page
