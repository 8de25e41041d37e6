// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "http_check_config.hpp"
#include "plugin_config.hpp"
#include "vigil/config_map.hpp"
#include "support.hpp"

using vigil::PluginKind;
using namespace vigil::plugins::http_check;

namespace {
struct Parsed {
    std::unique_ptr<vigil::test::CheckedSection> section;
    std::optional<Config> config;
    std::string errors() const { return section->errors(); }
};
Parsed parse(const std::string& yaml, const std::string& file = "p.yaml") {
    Parsed p;
    p.section = vigil::test::check_section(yaml, kOptions, PluginKind::Source, "", file);
    if (!p.section->diags.has_errors()) {
        p.config = parse_config(p.section->node, p.section->diags);
    }
    return p;
}
}  // namespace

TEST_CASE("http_check: sample.yaml validates", "[unit][config]") {
    auto s = vigil::test::check_sample(PLUGIN_DIR, kOptions, PluginKind::Source, "source");
    auto c = parse_config(s->node, s->diags);
    CHECK(s->errors() == "");
    REQUIRE(c);
    CHECK(c->sites.size() >= 1);
}

TEST_CASE("http_check: the README documents every option, plugin-level and per site", "[unit][config]") {
    vigil::test::check_readme_documents(PLUGIN_DIR, kOptions);  // kSiteOptions: the children of `sites`
}

TEST_CASE("http_check: plugin-level values are defaults that sites override", "[unit][config]") {
    auto p = parse(R"(plugin: http_check
interval: 5s
timeout: 4s
regex: Welcome
expect_status: [200, 3xx]
headers: {X-Probe: vigil}
sites:
  - {name: a, url: "https://a.example/"}
  - {name: b, url: "http://b.example/x?y=1", interval: 1m, regex: "B+", expect_status: ["200-204"], timeout: 2s,
     method: HEAD, verify_tls: false, ip_family: ipv6, max_body: 4KiB, follow_redirects: false}
)");
    // Only the weakened verification speaks up, where it is set.
    REQUIRE(p.errors() ==
            "p.yaml:10:32: warning: sites[1].verify_tls: certificates and host names are not verified: a "
            "check passes against any server that answers in the site's name (prefer ca_file for a "
            "private CA)\n");
    REQUIRE(p.config);
    const auto& a = *p.config->sites[0];
    const auto& b = *p.config->sites[1];
    CHECK(a.interval == std::chrono::seconds(5));
    CHECK(a.timeout == std::chrono::seconds(4));
    CHECK(a.regex_text == "Welcome");
    CHECK(a.expect_status.to_string() == "200,300-399");
    CHECK(a.headers == std::vector<std::pair<std::string, std::string>>{{"X-Probe", "vigil"}});
    CHECK(a.max_body == 1024 * 1024);
    CHECK(a.user_agent == "vigil/" VIGIL_VERSION);
    CHECK(a.follow_redirects);
    CHECK(b.interval == std::chrono::minutes(1));
    CHECK(b.regex_text == "B+");
    CHECK(b.expect_status.to_string() == "200-204");
    CHECK(b.method == "HEAD");
    CHECK_FALSE(b.verify_tls);
    CHECK(b.ip_family == IpFamily::V6);
    CHECK(b.max_body == 4096);
    CHECK_FALSE(b.follow_redirects);
}

TEST_CASE("http_check: bad sites are located errors, all reported at once", "[unit][config]") {
    auto p = parse(R"(plugin: http_check
sites:
  - {name: a, url: "https://a.example/", regex: "([a-z"}
  - {name: b, url: "ftp://b.example/"}
  - {name: c, url: "http://exa mple.com/"}
  - {name: a, url: "https://again.example/"}
  - {name: d, url: "https://d.example/", expect_status: [200, "99", 2xy], interval: 0s}
  - {name: e, url: "https://e.example/", headers: {"Bad Header": x}}
)");
    CHECK(p.errors() ==
          "p.yaml:3:49: error: sites[0].regex: invalid regular expression \"([a-z\": missing ]: [a-z\n"
          "p.yaml:4:20: error: sites[1].url: URL \"ftp://b.example/\" is not http:// or https://\n"
          "p.yaml:5:20: error: sites[2].url: invalid URL \"http://exa mple.com/\": Bad hostname\n"
          "p.yaml:6:12: error: sites[3].name: duplicate site name \"a\" (first at p.yaml:3:12)\n"
          "p.yaml:7:57: error: sites[4].expect_status: \"99\" is not a status code (100-599), a range such as 200-299, "
          "or a class such as 2xx\n"
          "p.yaml:7:57: error: sites[4].expect_status: \"2xy\" is not a status code (100-599), a range such as "
          "200-299, or a class such as 2xx\n"
          "p.yaml:7:85: error: sites[4].interval: must be more than 0\n"
          "p.yaml:8:52: error: sites[5].headers: invalid header name \"Bad Header\"\n");
    CHECK_FALSE(p.config);
}

TEST_CASE("http_check: the original project's JSON list loads from a file and from WEBSITES", "[unit][config]") {
    vigil::test::TempDir dir;
    dir.write("sites.json", R"([{"name": "example", "url": "https://example.com", "regex": "Example Domain"},
 {"name": "python", "url": "https://www.python.org"}])");
    auto p = parse("plugin: http_check\nsites_file: " + (dir / "sites.json").string() + "\n");
    REQUIRE(p.errors() == "");
    REQUIRE(p.config->sites.size() == 2);
    CHECK(p.config->sites[0]->regex_text == "Example Domain");
    CHECK_FALSE(p.config->sites[1]->regex_text);

    ::setenv("VIGIL_TEST_WEBSITES", R"([{"name": "x", "url": "https://x.example/", "regex": "(("}])", 1);
    auto bad = parse("plugin: http_check\nsites_env: VIGIL_TEST_WEBSITES\n");
    CHECK(bad.errors() ==
          "$VIGIL_TEST_WEBSITES:1:54: error: [0].regex: invalid regular expression \"((\": missing ): ((\n");
    ::unsetenv("VIGIL_TEST_WEBSITES");
    auto unset = parse("plugin: http_check\nsites_env: VIGIL_TEST_WEBSITES\n");
    CHECK(unset.errors() == "p.yaml:2:12: error: sites_env: environment variable VIGIL_TEST_WEBSITES is not set\n");
    // Beside a site file, an unset variable adds nothing and is no error.
    auto beside = parse(
        "plugin: http_check\nsites_env: VIGIL_TEST_WEBSITES\nsites_file: " + (dir / "sites.json").string() + "\n");
    CHECK(beside.errors() == "");
    CHECK(beside.config->sites.size() == 2);

    dir.write("bad.json", R"({"name": "x"})");
    auto shape = parse("plugin: http_check\nsites_file: " + (dir / "bad.json").string() + "\n");
    CHECK(shape.errors().find("bad.json:1:1: error: expected a list of maps") != std::string::npos);
}

TEST_CASE("http_check: a streamed JSON site list keeps each error's own line and column", "[unit][config]") {
    vigil::test::TempDir dir;
    auto file = dir.write("sites.json",
                          "[\n"
                          "  {\"name\": \"a\", \"url\": \"https://a.example/\"},\n"
                          "  \"not a site\",\n"
                          "  {\"name\": \"b\",\n"
                          "   \"url\": \"https://b.example/\", \"regex\": \"(\", \"timeout\": 5},\n"
                          "  {\"name\": \"a\", \"url\": \"https://c.example/\"}\n"
                          "]\n");
    auto p = parse("plugin: http_check\nsites_file: " + file.string() + "\n");
    auto f = file.string();
    CHECK(p.errors() == f + ":3:3: error: [1]: expected a map\n" + f +
                            ":5:58: error: [2].timeout: expected a duration such as 250ms, 10s, 5m or 1h, got \"5\"\n" +
                            f + ":6:12: error: [3].name: duplicate site name \"a\" (first at " + f + ":2:12)\n");
    dir.write("broken.json",
              "[\n  {\"name\": \"a\", \"url\": \"https://a.example/\"},\n  {\"name\": \"b\" \"url\": 1}\n]\n");
    auto broken = parse("plugin: http_check\nsites_file: " + (dir / "broken.json").string() + "\n");
    CHECK(broken.errors() == (dir / "broken.json").string() +
                                 ":3:16: error: invalid JSON: Missing a comma or '}' after an object member.\n");
}

TEST_CASE("http_check: an empty site list, a bad shard and a long timeout are reported", "[unit][config]") {
    CHECK(parse("plugin: http_check\n").errors() ==
          "p.yaml:1:1: error: no sites: set sites, sites_file, sites_env or sites_topic\n");
    auto shard = parse("plugin: http_check\nshard: 4/3\nsites: [{name: a, url: 'http://a/'}]\n");
    CHECK(shard.errors() == "p.yaml:2:8: error: shard: \"4/3\" is not I/N with 1 <= I <= N, e.g. 2/5\n");
    auto slow = parse(
        "plugin: http_check\ninterval: 5s\ntimeout: 10s\nsites: [{name: a, url: 'http://a/'}, {name: b, url: "
        "'http://b/'}]\n");
    CHECK(slow.errors() ==
          "p.yaml:3:10: warning: timeout: timeout 10s is longer than interval 5s: a slow site will skip slots\n");
    CHECK(slow.config);
}

TEST_CASE("http_check: 1,000 sites over 3 shards are covered exactly once", "[unit]") {
    std::string yaml = "plugin: http_check\nsites:\n";
    for (int i = 0; i < 1000; ++i) {
        yaml += "  - {name: site-" + std::to_string(i) + ", url: 'http://127.0.0.1/'}\n";
    }
    std::map<std::string, int> seen;
    std::size_t smallest = 1000;
    for (int shard = 1; shard <= 3; ++shard) {
        auto p = parse(yaml + "shard: " + std::to_string(shard) + "/3\n");
        REQUIRE(p.config);
        CHECK(p.config->sites_total == 1000);
        smallest = std::min(smallest, p.config->sites.size());
        for (const auto& s : p.config->sites) {
            ++seen[s->name];
        }
    }
    CHECK(seen.size() == 1000);
    for (const auto& [name, n] : seen) {
        CHECK(n == 1);
    }
    CHECK(smallest > 280);  // a fair split: no shard gets much less than a third
}

TEST_CASE("http_check: max_body is capped at 64MiB", "[unit][config]") {
    auto s = vigil::test::check_section("plugin: http_check\nmax_body: 65MiB\nsites: [{name: a, url: \"http://x/\"}]\n",
                                        kOptions, vigil::PluginKind::Source);
    REQUIRE_FALSE(s->diags.has_errors());
    CHECK_FALSE(parse_config(s->node, s->diags));
    CHECK(s->errors() == "test.yaml:2:11: error: max_body: must be between 1B and 64MiB, got 65MiB\n");
}

TEST_CASE("http_check: regex_absent, max_response_time and min_cert_validity: defaults, overrides, mistakes",
          "[unit][config]") {
    auto p = parse(R"(plugin: http_check
regex_absent: "(?i)maintenance"
max_response_time: 500ms
timeout: 2s
sites:
  - {name: a, url: "https://a.example/"}
  - {name: b, url: "https://b.example/", regex_absent: "error", min_cert_validity: 14d, max_response_time: 1s}
)");
    REQUIRE(p.errors() == "");
    REQUIRE(p.config);
    const auto& a = *p.config->sites[0];
    const auto& b = *p.config->sites[1];
    CHECK(a.regex_absent_text == "(?i)maintenance");
    CHECK(a.keeps_body());
    CHECK(a.max_response_time == std::chrono::milliseconds(500));
    CHECK(a.min_cert_validity == vigil::Duration::zero());
    CHECK(b.regex_absent_text == "error");
    CHECK(b.max_response_time == std::chrono::seconds(1));
    CHECK(b.min_cert_validity == std::chrono::hours(24 * 14));
    CHECK_FALSE(a == b);

    auto bad = parse(R"(plugin: http_check
sites:
  - {name: a, url: "https://a.example/", regex_absent: "(x"}
  - {name: b, url: "https://b.example/", max_response_time: 10s, timeout: 5s}
  - {name: c, url: "https://c.example/", min_cert_validity: 0s}
)");
    CHECK(bad.errors() ==
          "p.yaml:3:56: error: sites[0].regex_absent: invalid regular expression \"(x\": missing ): (x\n"
          "p.yaml:4:61: error: sites[1].max_response_time: 10s is not below timeout 5s: a check that slow is "
          "already error=timeout\n"
          "p.yaml:5:61: error: sites[2].min_cert_validity: must be more than 0\n");
    CHECK_FALSE(bad.config);
}

TEST_CASE("http_check: a JSON sites_file carries nested assertions and credentials, located when wrong",
          "[unit][config]") {
    vigil::test::TempDir dir;
    dir.write("sites.json", R"([
  {"name": "api", "url": "https://api.example/health",
   "json": [{"pointer": "/status", "equals": "UP"}, {"pointer": "/queue/depth", "below": 100}],
   "expect_headers": [{"name": "content-type", "matches": "json"}],
   "basic_auth": {"username": "ops", "password": "pw"}, "retries": 2},
  {"name": "bad", "url": "https://bad.example/",
   "json": [{"pointer": "status", "equals": "UP"}]}
])");
    auto p = parse("plugin: http_check\nsites_file: " + (dir / "sites.json").string() + "\n");
    CHECK(p.errors() == (dir / "sites.json").string() +
                            ":7:25: error: [1].json[0].pointer: \"status\" is not a JSON pointer (RFC 6901, e.g. "
                            "/status or /items/0/id): error at character 1\n");
    dir.write("sites.json", R"([{"name": "api", "url": "https://api.example/health",
   "json": [{"pointer": "/status", "equals": "UP"}, {"pointer": "/queue/depth", "below": 100}],
   "expect_headers": [{"name": "content-type", "matches": "json"}],
   "basic_auth": {"username": "ops", "password": "pw"}, "retries": 2}])");
    p = parse("plugin: http_check\nsites_file: " + (dir / "sites.json").string() + "\n");
    REQUIRE(p.errors() == "");
    REQUIRE(p.config);
    const auto& s = *p.config->sites[0];
    REQUIRE(s.json.size() == 2);
    CHECK(s.json[1].pointer == "/queue/depth");
    CHECK(s.json[1].below == 100);
    REQUIRE(s.expect_headers.size() == 1);
    CHECK(s.basic_user == "ops");
    CHECK(s.retries == 2);
}

TEST_CASE("http_check: a sites-topic definition is data: what it may set and inherit", "[unit][hostile]") {
    auto p = parse(
        "plugin: http_check\nbearer_token: plugin-secret\nheaders: {X-Api-Key: k}\nca_file: /dev/null\n"
        "sites: [{name: x, url: \"http://x/\"}]\n");
    REQUIRE(p.config);
    ::setenv("VIGIL_TOPIC_TEST_SECRET", "env-secret", 1);
    auto read = [&](const std::string& json, const TopicPolicy& policy) {
        std::optional<Site> out;
        vigil::Diagnostics diags;
        SiteCache cache;
        vigil::for_each_in_data_list("[" + json + "]", "t/0/7", kSiteOptions, diags, [&](const vigil::ConfigNode& e) {
            out = read_site(p.section->node, e, diags, cache, &policy);
        });
        return std::pair{out, diags.render()};
    };
    TopicPolicy strict;
    auto [plain, plain_errors] = read(R"({"name":"a","url":"http://a/?p=${VIGIL_TOPIC_TEST_SECRET}"})", strict);
    INFO(plain_errors);
    REQUIRE(plain);
    CHECK(plain->url == "http://a/?p=${VIGIL_TOPIC_TEST_SECRET}");
    CHECK(plain->bearer_token.empty());  // the plugin's credentials stay with the plugin's sites
    CHECK(plain->headers.empty());
    CHECK(plain->ca_file == "/dev/null");  // the operator's trust store still applies
    for (const char* key : {"ca_file", "client_cert_file", "proxy", "no_proxy", "interface", "source_address"}) {
        INFO(key);
        auto value = std::string(key) == "no_proxy" ? std::string("[\"a\"]") : std::string("\"/etc/passwd\"");
        auto [site, errors] =
            read(R"({"name":"a","url":"http://a/",")" + std::string(key) + "\":" + value + "}", strict);
        CHECK_FALSE(site);
        CHECK(errors.find(std::string("a sites-topic message may not set ") + key +
                          " unless sites_topic.allow lists it") != std::string::npos);
    }
    auto [file, file_errors] = read(R"({"name":"a","url":"http://a/","bearer_token_file":"/etc/hostname"})", strict);
    CHECK_FALSE(file);
    CHECK(file_errors.find("t/0/7:1:") != std::string::npos);
    CHECK(file_errors.find("[0].bearer_token_file: names a file, which a message may not") != std::string::npos);
    TopicPolicy trusting{.allow = {"proxy"}, .inherit_credentials = true};
    auto [allowed, allowed_errors] =
        read(R"({"name":"a","url":"http://a/","proxy":"http://127.0.0.1:3128"})", trusting);
    INFO(allowed_errors);
    REQUIRE(allowed);
    CHECK(allowed->proxy == "http://127.0.0.1:3128");
    CHECK(allowed->bearer_token == "plugin-secret");
    CHECK(allowed->headers.size() == 1);
}

TEST_CASE("http_check: names, groups, locations and header values hold no control character", "[unit][hostile]") {
    auto p = parse(
        "plugin: http_check\nlocation: \"eu\\nus\"\nsites:\n"
        "  - {name: \"shop\\r\\nX-Injected: yes\", url: \"http://a/\"}\n"
        "  - {name: b, url: \"http://b/\", group: \"g\\u0085\"}\n"
        "  - {name: c, url: \"http://c/\", headers: {X-A: \"v\\u0001\"}, user_agent: \"ua\\n\"}\n"
        "  - {name: d, url: \"http://d/\", headers: {X-B: \"tab\\tok\"}}\n");
    auto e = p.errors();
    CHECK(e.find("p.yaml:2:11: error: location: the location's name holds the control character U+000A at byte 2") !=
          std::string::npos);
    CHECK(e.find("error: sites[0].name: the site's name holds the control character U+000D at byte 4") !=
          std::string::npos);
    CHECK(e.find("error: sites[1].group: the group's name holds the control character U+0085 at byte 1") !=
          std::string::npos);
    CHECK(e.find("error: sites[2].headers: the value of header \"X-A\" holds the control character U+0001") !=
          std::string::npos);
    CHECK(e.find("error: sites[2].user_agent: the User-Agent holds the control character U+000A") != std::string::npos);
    CHECK(e.find("sites[3]") == std::string::npos);
}

TEST_CASE("http_check: a GET or HEAD with a body is refused at load, not sent as POST", "[unit]") {
    auto p = parse(
        "plugin: http_check\nsites:\n  - {name: a, url: \"http://a/\", body: \"{}\"}\n"
        "  - {name: b, url: \"http://b/\", method: HEAD, body: x}\n"
        "  - {name: c, url: \"http://c/\", method: POST, body: x}\n"
        "  - {name: d, url: \"http://d/\", method: DELETE, body: x}\n");
    auto e = p.errors();
    INFO(e);
    CHECK(e.find("p.yaml:3:39: error: sites[0].body: a GET request sends no body: set method (POST, PUT, PATCH...) "
                 "or drop body") != std::string::npos);
    CHECK(e.find("sites[1].body: a HEAD request sends no body") != std::string::npos);
    CHECK(e.find("sites[2]") == std::string::npos);
    CHECK(e.find("sites[3]") == std::string::npos);
}

TEST_CASE("http_check: every bound option is in the table, once, with a type its member holds", "[unit][config]") {
    using namespace vigil::plugins::http_check;
    CHECK(vigil::bound_problems<Config>(kOptions, kBound).empty());
    CHECK(vigil::bound_problems<Site>(kSiteOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<Site>(kOptions, kBoundSite).empty());
    CHECK(vigil::bound_problems<SitesTopicConfig>(kSitesTopicOptions, vigil::checks::kBoundSitesTopicConfig).empty());
}

TEST_CASE("http_check: a site that sets only its identity starts from the plugin level read once", "[unit][config]") {
    // Site a takes the shared base (name, url, regex only); b sets one more option and is read
    // whole. Both must come out as if read whole, and the plugin-level warning is given once.
    auto p = parse(R"(plugin: http_check
interval: 5s
timeout: 4s
verify_tls: false
headers: {X-Probe: vigil}
expect_status: [2xx]
sites:
  - {name: a, url: "https://a.example/", regex: "A+"}
  - {name: b, url: "https://a.example/", regex: "A+", group: g}
  - {name: c, url: "http://c.example:8080/", regex_absent: "down"}
)");
    REQUIRE(p.errors() ==
            "p.yaml:4:13: warning: verify_tls: certificates and host names are not verified: a check passes against "
            "any server that answers in the site's name (prefer ca_file for a private CA)\n");
    REQUIRE(p.config);
    auto a = *p.config->sites[0];
    const auto& b = *p.config->sites[1];
    const auto& c = *p.config->sites[2];
    CHECK(a.interval == std::chrono::seconds(5));
    CHECK_FALSE(a.verify_tls);
    CHECK(a.headers == b.headers);
    CHECK(a.expect_status.to_string() == "200-299");
    CHECK(a.regex == b.regex);  // one compiled pattern
    CHECK(c.origin == "http://c.example:8080");
    CHECK(c.regex_absent_text == "down");
    a.name = "b";
    a.group = "g";
    CHECK(a == b);  // the base plus a's identity is exactly what reading b whole gave
}

TEST_CASE("http_check: a plugin-level error is reported by every site read whole, not hidden by the base",
          "[unit][config]") {
    auto p = parse(R"(plugin: http_check
expect_status: ["999"]
sites:
  - {name: a, url: "https://a.example/"}
)");
    CHECK(p.errors() ==
          "p.yaml:2:16: error: expect_status: \"999\" is not a status code (100-599), a range such as 200-299, or a "
          "class such as 2xx\n");
    CHECK_FALSE(p.config);
}
