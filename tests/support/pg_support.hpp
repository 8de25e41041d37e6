// SPDX-License-Identifier: Apache-2.0
// Talking to the PostgreSQL of scripts/services from tests: a database of one's own, queries.
#pragma once

#include <string>
#include <vector>

namespace vigil::test::pg {

/// $DATABASE_URL (verify-full TLS); fails the test when unset.
std::string database_url();
/// The same server and credentials, another database.
std::string url_for(const std::string& database);

/// A fresh database, dropped (with its connections) on destruction.
class TestDatabase {
  public:
    TestDatabase();
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;
    const std::string& name() const { return name_; }
    const std::string& url() const { return url_; }

  private:
    std::string name_, url_;
};

/// Runs `sql`; returns the rows, each a vector of text values ("" for NULL). Fails the test on
/// error.
std::vector<std::vector<std::string>> query(const std::string& url, const std::string& sql);
/// The single value of a one-row, one-column query.
std::string scalar(const std::string& url, const std::string& sql);

/// Adds a BEFORE INSERT trigger to `metrics` (which must exist) recording each row offered to
/// it, conflicting ones included, in `metrics_offered`, which has no constraint: the unique index
/// keeps one row per check_id whatever pg_sink does, so what it was sent shows only there.
void audit_metrics(const std::string& url);

/// Whether every check is stored once, by measures that can fail (count(*) - count(DISTINCT
/// check_id) cannot, under the unique index).
struct StoredOnce {
    long long rows = 0;
    long long same_slot = 0;  // rows past the first for one site and start time: a check stored twice under two ids
    long long rejected = 0;   // rows in metrics_rejected: a second insert without ON CONFLICT would land there
    long long offered = 0;    // rows pg_sink offered in committed transactions (audit_metrics), redeliveries included
    long long offered_ids = 0;
    bool audited = false;  // audit_metrics() was set up: offered and offered_ids mean something
    std::string summary() const;
};
StoredOnce stored_once(const std::string& url);

}  // namespace vigil::test::pg
