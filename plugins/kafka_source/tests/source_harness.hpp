// SPDX-License-Identifier: Apache-2.0
// What kafka_source's broker tests share: a publisher, agents run from a pipeline file, what they
// stored, and what they serve on /metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka_support.hpp"
#include "support.hpp"

namespace vigil::test::kafka_source {

/// Publishes `n` records "<prefix>-<i>" through kafka_sink, `per_batch` at a time.
void publish(const std::string& topic, int n, const std::string& prefix, int per_batch = 5000,
             std::chrono::milliseconds pause = {});
/// A consumer pipeline reading `topic` in `group` into the stdout_sink file `out`.
std::string consumer_yaml(const std::string& topic, const std::string& group, const std::filesystem::path& out,
                          const std::string& extra = "");
/// The agent binary running `pipeline`.
std::unique_ptr<Child> agent(const std::filesystem::path& pipeline, std::vector<std::string> extra = {});
/// The check_ids a stdout_sink file holds, in order.
std::vector<std::string> ids_in(const std::filesystem::path& file);
/// Every check_id the consumers stored, over all their output files.
std::set<std::string> ids_in_all(const std::vector<std::filesystem::path>& files);
/// The offsets committed for `group` on `topic`, summed over its partitions.
std::int64_t committed_total(const std::string& group, const std::string& topic);
/// The address an agent serves /metrics on, from its log ("" if it does not say in time).
std::string metrics_base(Child& agent);
/// The partitions of `topic` whose consumer lag `base`/metrics reports, with their lag.
std::map<std::string, double> lag_by_partition(const std::string& base, const std::string& topic);

// Joins a thread when the test leaves, even on a failed REQUIRE.
struct JoinOnExit {
    std::thread& t;
    ~JoinOnExit() {
        if (t.joinable()) {
            t.join();
        }
    }
};

}  // namespace vigil::test::kafka_source
