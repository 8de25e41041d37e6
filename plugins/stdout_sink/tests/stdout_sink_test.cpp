// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "plugin_config.hpp"
#include "stdout_sink.hpp"
#include "support.hpp"
#include "vigil/config_map.hpp"

using vigil::PluginKind;
using vigil::plugins::stdout_sink::kOptions;
using vigil::plugins::stdout_sink::parse_config;
using vigil::plugins::stdout_sink::StdoutSink;

namespace {
vigil::Batch batch_of(int n) {
    vigil::Batch b;
    for (int i = 0; i < n; ++i) {
        vigil::CheckRecord r;
        r.name = "site-" + std::to_string(i);
        r.url = "https://example.com/";
        r.response_time = 12.5;
        r.status_code = 200;
        r.timestamp = vigil::Timestamp(std::chrono::microseconds(1'700'000'000'000'001));
        r.check_id = "id" + std::to_string(i);
        b.records.push_back({r, {}});
    }
    return b;
}
}  // namespace

TEST_CASE("stdout_sink: sample.yaml validates", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Sink, "sinks[0]");
    CHECK(parse_config(s->node, s->diags));
}

TEST_CASE("stdout_sink: the README documents every option", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);
}

TEST_CASE("stdout_sink: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::stdout_sink;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
}

TEST_CASE("stdout_sink: bad options are rejected with the exact message and location", "[unit][config]") {
    auto s = vigil::test::check_section("plugin: stdout_sink\npath: [a]\nfsync: 1\n", kOptions, PluginKind::Sink);
    CHECK(s->errors() ==
          "test.yaml:2:7: error: path: expected a scalar, got a list\n"
          "test.yaml:3:8: error: fsync: expected true or false, got \"1\"\n");
    vigil::test::TempDir dir;
    auto d = vigil::test::check_section("plugin: stdout_sink\npath: " + dir.path().string() + "\n", kOptions,
                                        PluginKind::Sink);
    REQUIRE(d->errors() == "");
    CHECK_FALSE(parse_config(d->node, d->diags));
    CHECK(d->errors() == "test.yaml:2:7: error: path: \"" + dir.path().string() + "\" is a directory; name a file\n");
}

TEST_CASE("stdout_sink: a batch becomes one compact JSON object per line", "[unit]") {
    auto text = StdoutSink::format_batch(batch_of(2));
    CHECK(
        text ==
        R"({"name":"site-0","url":"https://example.com/","response_time":12.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":"2023-11-14T22:13:20.000001Z","check_id":"id0","agent":"","ok":null,"error":null,"error_detail":null,"dns_ms":null,"connect_ms":null,"tls_ms":null,"ttfb_ms":null,"redirects":null,"body_bytes":null,"truncated":null,"http_version":null,"remote_ip":null,"tls_not_after":null,"lag_ms":null,"attempts":null,"body_excerpt":null,"response_headers":null,"location":null,"group":null,"kind":null,"rcode":null,"answers":null,"packets_sent":null,"packets_received":null,"packet_loss":null,"rtt_min_ms":null,"rtt_avg_ms":null,"rtt_max_ms":null,"rtt_stddev_ms":null,"tls_version":null,"tls_cipher":null,"tls_issuer":null,"ocsp_status":null})"
        "\n"
        R"({"name":"site-1","url":"https://example.com/","response_time":12.5,"status_code":200,"regex":null,"regex_check":null,"timestamp":"2023-11-14T22:13:20.000001Z","check_id":"id1","agent":"","ok":null,"error":null,"error_detail":null,"dns_ms":null,"connect_ms":null,"tls_ms":null,"ttfb_ms":null,"redirects":null,"body_bytes":null,"truncated":null,"http_version":null,"remote_ip":null,"tls_not_after":null,"lag_ms":null,"attempts":null,"body_excerpt":null,"response_headers":null,"location":null,"group":null,"kind":null,"rcode":null,"answers":null,"packets_sent":null,"packets_received":null,"packet_loss":null,"rtt_min_ms":null,"rtt_avg_ms":null,"rtt_max_ms":null,"rtt_stddev_ms":null,"tls_version":null,"tls_cipher":null,"tls_issuer":null,"ocsp_status":null})"
        "\n");
}

TEST_CASE("stdout_sink: batches append to the file, fsynced, and survive reopening", "[unit]") {
    vigil::test::TempDir dir;
    for (int round = 0; round < 2; ++round) {
        StdoutSink sink({dir / "out.jsonl", true}, vigil::Logger("stdout_sink.0"));
        REQUIRE(sink.start().ok());
        CHECK(sink.write(batch_of(3)).kind == vigil::WriteResult::Kind::Accepted);
        sink.stop();
    }
    auto lines = vigil::test::read_lines(dir / "out.jsonl");
    CHECK(lines.size() == 6);
}

TEST_CASE("stdout_sink: a full disk is a transient failure naming the file", "[unit]") {
    StdoutSink sink({"/dev/full", false}, vigil::Logger("stdout_sink.0"));
    REQUIRE(sink.start().ok());
    auto big = batch_of(200);  // more than stdio's buffer, so the write reaches the device
    auto r = sink.write(big);
    CHECK(r.kind == vigil::WriteResult::Kind::Retry);
    CHECK(r.error == "stdout_sink.0: write to /dev/full failed: No space left on device");
}

TEST_CASE("stdout_sink: an unopenable path fails start() with the reason", "[unit]") {
    StdoutSink sink({"/nonexistent-dir/out.jsonl", false}, vigil::Logger("stdout_sink.0"));
    auto s = sink.start();
    CHECK_FALSE(s.ok());
    CHECK(s.message() == "stdout_sink.0: cannot open /nonexistent-dir/out.jsonl: No such file or directory");
    CHECK_FALSE(sink.healthcheck().ok());
}
