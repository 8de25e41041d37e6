// SPDX-License-Identifier: Apache-2.0
// webhook_sink against a real HTTP receiver (scripts/fixture-sites' /answer route: it keeps what
// it received and answers the statuses it is told, in order).
#include <rapidjson/document.h>

#include <csignal>

#include <catch2/catch.hpp>

#include "fixture_sites.hpp"
#include "message.hpp"
#include "pg_support.hpp"
#include "plugin_config.hpp"
#include "support.hpp"
#include "webhook_sink.hpp"

namespace pg = vigil::test::pg;
using namespace vigil::plugins::webhook_sink;
using namespace std::chrono_literals;

namespace {

const vigil::test::FixtureSites& fixture() {
    static vigil::test::FixtureSites f;
    return f;
}

std::unique_ptr<WebhookSink> make_sink(const std::string& url, const std::string& extra = "") {
    auto s = vigil::test::check_section("plugin: webhook_sink\nurl: \"" + url + "\"\n" + extra, kOptions,
                                        vigil::PluginKind::Sink);
    INFO(s->errors());
    REQUIRE_FALSE(s->diags.has_errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    return std::make_unique<WebhookSink>(std::move(*c), "webhook_sink.test", vigil::Logger("webhook_sink.test"));
}

vigil::Record event(std::int64_t id, const std::string& to = "down") {
    vigil::SiteEvent e;
    e.id = id;
    e.site = "site" + std::to_string(id);
    e.url = "https://" + e.site + ".example/";
    e.from = to == "up" ? "down" : "up";
    e.to = to;
    e.at = vigil::Timestamp(std::chrono::seconds(1'800'000'000 + id));
    e.since = e.at - std::chrono::minutes(3);
    e.check_id = "c" + std::to_string(id);
    e.reason = "3 failed checks in a row: connect";
    e.cause = "connect";
    vigil::Record r;
    r.check.name = e.site;
    r.origin = "site_events id=" + std::to_string(id);
    r.event = e;
    return r;
}

struct Received {
    std::map<std::string, std::string> headers;
    std::string body;
};

std::vector<Received> received(const std::string& name) {
    auto r = vigil::test::run({"/usr/bin/curl", "-fsS", fixture().url("/received/" + name)});
    REQUIRE(r.code == 0);
    rapidjson::Document doc;
    doc.Parse(r.out.c_str());
    REQUIRE(doc.IsArray());
    std::vector<Received> out;
    for (const auto& d : doc.GetArray()) {
        Received x;
        for (auto it = d["headers"].MemberBegin(); it != d["headers"].MemberEnd(); ++it) {
            x.headers[it->name.GetString()] = it->value.GetString();
        }
        x.body = d["body"].GetString();
        out.push_back(std::move(x));
    }
    return out;
}

std::string name_of(const std::string& stem) { return stem + std::to_string(::getpid()); }

}  // namespace

TEST_CASE("webhook_sink: each event is POSTed with its Idempotency-Key and an HMAC-SHA256 signature of the body",
          "[integration]") {
    vigil::test::TempDir dir;
    auto secret = dir.write("secret", "s3cret\n");
    auto name = name_of("signed");
    auto sink = make_sink(fixture().url("/answer/" + name + "?codes=200"), "secret_file: " + secret.string() + "\n");
    auto r = sink->write(vigil::Batch{1, {event(41), event(42)}});
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    auto got = received(name);
    REQUIRE(got.size() == 2);
    CHECK(got[0].headers["Idempotency-Key"] == "41");
    CHECK(got[1].headers["Idempotency-Key"] == "42");
    // The receiver's check: the HMAC of the bytes received, under the shared secret (the file's
    // trailing newline is not part of it, as with every *_file secret).
    CHECK(got[0].headers["X-Vigil-Signature"] == signature("s3cret", got[0].body));
    CHECK(got[0].headers["X-Vigil-Signature"] != signature("other", got[0].body));
    auto decoded = vigil::decode_event_json(got[1].body);
    REQUIRE(decoded);
    CHECK(*decoded.event == *event(42).event);
}

TEST_CASE("webhook_sink: 500 then 200 delivers each event once; the retry does not send again what was taken",
          "[integration]") {
    auto name = name_of("flaky");
    auto sink = make_sink(fixture().url("/answer/" + name + "?codes=200,500,200"));
    vigil::Batch b{1, {event(1), event(2)}};
    auto first = sink->write(b);
    REQUIRE(first.kind == vigil::WriteResult::Kind::Retry);
    CHECK_THAT(first.error, Catch::Contains("answered HTTP 500 for event 2"));
    CHECK_FALSE(sink->health().ok());
    auto second = sink->write(b);  // the core's retry
    INFO(second.error);
    REQUIRE(second.kind == vigil::WriteResult::Kind::Accepted);
    CHECK(second.rejected.empty());
    auto got = received(name);
    REQUIRE(got.size() == 3);  // 1 (200), 2 (500), 2 (200): event 1 is not sent again
    CHECK(got[0].headers["Idempotency-Key"] == "1");
    CHECK(got[1].headers["Idempotency-Key"] == "2");
    CHECK(got[2].headers["Idempotency-Key"] == "2");
    CHECK(got[2].body == got[1].body);
    CHECK(sink->health().ok());
}

TEST_CASE("webhook_sink: a refresh is not sent; slack format posts text", "[integration]") {
    auto name = name_of("slack");
    auto sink = make_sink(fixture().url("/answer/" + name), "format: slack\n");
    REQUIRE(sink->write(vigil::Batch{1, {event(0), event(5)}}).kind == vigil::WriteResult::Kind::Accepted);
    auto got = received(name);
    REQUIRE(got.size() == 1);
    CHECK_THAT(got[0].body, Catch::StartsWith("{\"text\":\":red_circle: *site5* is down: connect"));
}

TEST_CASE("webhook_sink: 400 dead-letters the event with the receiver's answer; the pipeline goes on",
          "[integration]") {
    // Through the agent: pg_events -> webhook_sink, the pipeline's dead-letter file.
    pg::TestDatabase db;
    auto m = vigil::test::run({vigil::test::agent_binary().string(), "migrate", "--database-url", db.url()});
    REQUIRE(m.code == 0);
    pg::query(db.url(),
              "INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause) "
              "VALUES ('shop', 'https://shop.example/', 'up', 'down', now(), now(), 'c1', 'r', 'connect'), "
              "('blog', 'https://blog.example/', 'up', 'down', now(), now(), 'c2', 'r', 'connect')");
    auto name = name_of("refuse");
    vigil::test::TempDir dir;
    auto pipeline = dir.write(
        "hooks.yaml", "pipeline: hooks\nsource:\n  plugin: pg_events\n  url: \"" + db.url() +
                          "\"\n  start: beginning\nsinks:\n  - plugin: webhook_sink\n    url: \"" +
                          fixture().url("/answer/" + name + "?codes=400,200") + "\"\ndead_letter_file: dead.jsonl\n");
    vigil::test::Child agent({vigil::test::agent_binary().string(), "--pipeline", pipeline.string()});
    INFO(agent.err());
    REQUIRE(vigil::test::wait_until(
        [&] { return pg::scalar(db.url(), "SELECT coalesce(max(last_id), 0) FROM site_events_cursors") == "2"; }, 15s));
    auto dead = vigil::test::read_lines(dir / "dead.jsonl");
    REQUIRE(dead.size() == 1);
    CHECK_THAT(dead[0], Catch::Contains("refused event 1 with HTTP 400: answer 400") &&
                            Catch::Contains("\"origin\":\"site_events id=1\"") &&
                            Catch::Contains("\"event\":{\"id\":1"));
    CHECK(received(name).size() == 2);  // event 2 was delivered after it
    agent.signal(SIGTERM);
    CHECK(agent.wait() == 0);
}

TEST_CASE("hostile: a site's name cannot add a header, and Slack shows its text instead of obeying it", "[hostile]") {
    auto name = name_of("hostile");
    auto sink = make_sink(fixture().url("/answer/" + name + "?codes=200"), "format: slack\n");
    auto forged = event(51);
    forged.event->site = "shop\r\nX-Injected: yes <!channel>";
    forged.check.name = forged.event->site;
    auto r = sink->write(vigil::Batch{1, {forged}});
    INFO(r.error);
    REQUIRE(r.kind == vigil::WriteResult::Kind::Accepted);
    auto got = received(name);
    REQUIRE(got.size() == 1);
    CHECK(got[0].headers.count("X-Injected") == 0);
    CHECK(got[0].headers["X-Vigil-Event"] == "shop\\r\\nX-Injected: yes <!channel> up -> down");
    CHECK(got[0].body.find("&lt;!channel&gt;") != std::string::npos);
    CHECK(got[0].body.find("<!channel>") == std::string::npos);
}
