// SPDX-License-Identifier: Apache-2.0
#include "source_harness.hpp"

#include <sstream>

#include <catch2/catch.hpp>

#include "kafka_sink.hpp"
#include "plugin_config.hpp"

namespace vigil::test::kafka_source {

namespace kt = vigil::test::kafka;

// Publishes `n` records "<prefix>-<i>" through kafka_sink, `per_batch` at a time.
void publish(const std::string& topic, int n, const std::string& prefix, int per_batch,
             std::chrono::milliseconds pause) {
    auto s = vigil::test::check_section(
        "plugin: kafka_sink\nbrokers: " + kt::plaintext_brokers() + "\ntopic: " + topic + "\n",
        vigil::plugins::kafka_sink::kOptions, vigil::PluginKind::Sink);
    auto c = vigil::plugins::kafka_sink::parse_config(s->node, "vigil-test-publisher", s->diags);
    REQUIRE(c);
    vigil::plugins::kafka_sink::KafkaSink sink(std::move(*c), "publisher", vigil::Logger("publisher"));
    REQUIRE(sink.start().ok());
    std::uint64_t seq = 1;
    for (int i = 0; i < n;) {
        vigil::Batch b;
        b.sequence = seq++;
        for (int k = 0; k < per_batch && i < n; ++k, ++i) {
            vigil::CheckRecord r;
            r.name = "site-" + std::to_string(i % 97);
            r.url = "https://example.com/";
            r.response_time = 5;
            r.status_code = 200;
            r.timestamp = vigil::Timestamp(std::chrono::seconds(1'800'000'000 + i));
            r.check_id = prefix.empty() ? std::to_string(i) : prefix + "-" + std::to_string(i);
            b.records.push_back({r, {}});
        }
        auto result = sink.write(b);
        REQUIRE(result.kind == vigil::WriteResult::Kind::Accepted);
        REQUIRE(result.rejected.empty());
        if (pause.count() > 0) {
            std::this_thread::sleep_for(pause);  // pacing the stream, not waiting for anything
        }
    }
    sink.stop();
}

std::string consumer_yaml(const std::string& topic, const std::string& group, const std::filesystem::path& out,
                          const std::string& extra) {
    return "pipeline: consumer\nsource:\n  plugin: kafka_source\n  brokers: " + kt::plaintext_brokers() +
           "\n  topics: [" + topic + "]\n  group: " + group + "\n" + extra +
           "sinks:\n  - plugin: stdout_sink\n    path: " + out.string() + "\n";
}

std::unique_ptr<Child> agent(const std::filesystem::path& pipeline, std::vector<std::string> extra) {
    std::vector<std::string> argv{vigil::test::agent_binary().string(), "--pipeline", pipeline.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(argv);
}

std::vector<std::string> ids_in(const std::filesystem::path& file) {
    std::vector<std::string> ids;
    for (const auto& line : vigil::test::read_lines(file)) {
        auto d = vigil::decode_json(line);
        if (d) {
            ids.push_back(d.record->check_id);
        }
    }
    return ids;
}

// Every check_id the consumers stored, over all their output files.
std::set<std::string> ids_in_all(const std::vector<std::filesystem::path>& files) {
    std::set<std::string> all;
    for (const auto& f : files) {
        for (auto& id : ids_in(f)) {
            all.insert(std::move(id));
        }
    }
    return all;
}

std::int64_t committed_total(const std::string& group, const std::string& topic) {
    std::int64_t total = 0;
    for (const auto& [p, offset] : kt::committed(group, topic)) {
        total += offset > 0 ? offset : 0;
    }
    return total;
}

// The address an agent serves /metrics on, from its log ("" if it does not say in time).
std::string metrics_base(Child& agent) {
    const std::string marker = "serving /metrics and /healthz on ";
    std::string base;
    vigil::test::wait_until([&] {
        auto err = agent.err();
        auto at = err.find(marker);
        if (at != std::string::npos) {
            base = "http://" + err.substr(at + marker.size(), err.find('\n', at) - at - marker.size());
        }
        return !base.empty();
    });
    return base;
}

// The partitions of `topic` whose consumer lag `base`/metrics reports, with their lag.
std::map<std::string, double> lag_by_partition(const std::string& base, const std::string& topic) {
    std::map<std::string, double> out;
    auto metrics = vigil::test::run({"/usr/bin/curl", "-sS", base + "/metrics"}).out;
    std::istringstream in(metrics);
    const std::string key = "partition=\"";
    for (std::string line; std::getline(in, line);) {
        auto at = line.find(key);
        if (line.rfind("vigil_kafka_source_consumer_lag{", 0) == 0 &&
            line.find("topic=\"" + topic + "\"") != std::string::npos && at != std::string::npos) {
            auto from = at + key.size();
            out[line.substr(from, line.find('"', from) - from)] = std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return out;
}

}  // namespace vigil::test::kafka_source
