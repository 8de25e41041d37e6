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

}  // namespace vigil::test::pg
