// SPDX-License-Identifier: Apache-2.0
// config_map.hpp: options bound to members load with their defaults, keep their limits (one
// located error each), inherit from a plugin-level section, and a wrong binding is found.
#include <catch2/catch.hpp>

#include <chrono>

#include "plugin_config.hpp"
#include "vigil/config_map.hpp"

using namespace std::chrono_literals;
using vigil::Bound;
using vigil::OptionSpec;
using vigil::OptionType;

namespace {

enum class Mode { Fast, Safe, Off };
const char* const kModes[] = {"fast", "safe", "off", nullptr};

const OptionSpec kItem[] = {
    {.key = "name", .type = OptionType::String, .required = true, .description = "Name"},
    {.key = "interval", .type = OptionType::Duration, .description = "Interval"},
    {.key = "retries", .type = OptionType::Int, .description = "Retries"},
    {},
};

const OptionSpec kTable[] = {
    {.key = "topic", .type = OptionType::String, .default_value = "metrics", .description = "Topic"},
    {.key = "token", .type = OptionType::Secret, .description = "Token"},
    {.key = "batch", .type = OptionType::Int, .default_value = "100", .description = "Batch"},
    {.key = "max_body", .type = OptionType::Size, .default_value = "1MiB", .description = "Body cap"},
    {.key = "ratio", .type = OptionType::Float, .default_value = "0.5", .description = "Ratio"},
    {.key = "fsync", .type = OptionType::Bool, .default_value = "false", .description = "Fsync"},
    {.key = "interval", .type = OptionType::Duration, .default_value = "30s", .description = "Interval"},
    {.key = "refresh", .type = OptionType::Duration, .default_value = "0s", .description = "Refresh"},
    {.key = "linger", .type = OptionType::Duration, .description = "Linger"},
    {.key = "mode", .type = OptionType::String, .default_value = "safe", .one_of = kModes, .description = "Mode"},
    {.key = "path", .type = OptionType::String, .description = "Path"},
    {.key = "hosts", .type = OptionType::StringList, .description = "Hosts"},
    {.key = "labels", .type = OptionType::StringMap, .description = "Labels"},
    {.key = "retries", .type = OptionType::Int, .default_value = "2", .description = "Retries"},
    {.key = "items", .type = OptionType::List, .children = kItem, .description = "Items"},
    {},
};

struct Config {
    std::string topic;
    std::string token;
    std::size_t batch = 0;
    std::uint64_t max_body = 0;
    double ratio = 0;
    bool fsync = true;
    vigil::Duration interval{};
    std::chrono::milliseconds refresh{7};
    std::optional<std::chrono::milliseconds> linger;
    Mode mode = Mode::Off;
    std::filesystem::path path;
    std::vector<std::string> hosts;
    std::vector<std::pair<std::string, std::string>> labels;
};

const Bound<Config> kBound[] = {
    vigil::bind<&Config::topic>("topic"),
    vigil::bind<&Config::token>("token"),
    vigil::bind<&Config::batch>("batch", {.min = 1, .max = 10000}),
    vigil::bind<&Config::max_body>("max_body", {.min = 1, .max = 64 << 20}),
    vigil::bind<&Config::ratio>("ratio"),
    vigil::bind<&Config::fsync>("fsync"),
    vigil::bind<&Config::interval>("interval", {.above_zero = true}),
    vigil::bind<&Config::refresh>("refresh", {.at_least = 1s, .zero_is_off = true}),
    vigil::bind<&Config::linger>("linger", {.at_most = 1s}),
    vigil::bind<&Config::mode>("mode"),
    vigil::bind<&Config::path>("path"),
    vigil::bind<&Config::hosts>("hosts"),
    vigil::bind<&Config::labels>("labels"),
};

struct Item {
    std::string name;
    vigil::Duration interval{};
    int retries = -1;
};
const Bound<Item> kItemBound[] = {
    vigil::bind<&Item::name>("name"),
    vigil::bind<&Item::interval>("interval", {.above_zero = true}),
    vigil::bind<&Item::retries>("retries", {.min = 0, .max = 10}),
};

std::unique_ptr<vigil::test::CheckedSection> section(const std::string& yaml) {
    auto s =
        vigil::test::check_section("plugin: stdout_sink\n" + yaml, kTable, vigil::PluginKind::Sink, "", "/etc/p.yaml");
    REQUIRE(s->errors().empty());
    return s;
}

}  // namespace

TEST_CASE("bound options load their defaults when nothing is written") {
    auto s = section("");
    Config c;
    REQUIRE(vigil::load_bound<Config>(kBound, s->node, c, s->diags));
    CHECK(c.topic == "metrics");
    CHECK(c.token.empty());
    CHECK(c.batch == 100);
    CHECK(c.max_body == 1u << 20);
    CHECK(c.ratio == 0.5);
    CHECK_FALSE(c.fsync);
    CHECK(c.interval == 30s);
    CHECK(c.refresh == 0ms);
    CHECK_FALSE(c.linger.has_value());
    CHECK(c.mode == Mode::Safe);
    CHECK(c.path.empty());
    CHECK(c.hosts.empty());
    CHECK(c.labels.empty());
}

TEST_CASE("bound options load what is written, each into its member's type") {
    auto s = section(
        "topic: t1\ntoken: s3cret\nbatch: 10000\nmax_body: 2KiB\nratio: 0.25\nfsync: true\ninterval: 1m\n"
        "refresh: 2s\nlinger: 5ms\nmode: off\npath: out/records.json\nhosts: [a, b]\nlabels: {team: web}\n");
    Config c;
    REQUIRE(vigil::load_bound<Config>(kBound, s->node, c, s->diags));
    CHECK(c.topic == "t1");
    CHECK(c.token == "s3cret");
    CHECK(c.batch == 10000);
    CHECK(c.max_body == 2048);
    CHECK(c.ratio == 0.25);
    CHECK(c.fsync);
    CHECK(c.interval == 1min);
    CHECK(c.refresh == 2s);
    REQUIRE(c.linger.has_value());
    CHECK(*c.linger == 5ms);
    CHECK(c.mode == Mode::Off);
    CHECK(c.path == s->node.resolve_path("out/records.json"));
    CHECK(c.path.is_absolute());
    CHECK(c.hosts == std::vector<std::string>{"a", "b"});
    REQUIRE(c.labels.size() == 1);
    CHECK(c.labels[0] == std::pair<std::string, std::string>{"team", "web"});
}

TEST_CASE("a bound value outside its limits is one located error and leaves the member alone") {
    auto s = section("batch: 0\nmax_body: 65MiB\ninterval: 0s\nrefresh: 500ms\nlinger: 2s\n");
    Config c;
    c.batch = 42;
    CHECK_FALSE(vigil::load_bound<Config>(kBound, s->node, c, s->diags));
    CHECK(c.batch == 42);
    auto errors = s->errors();
    CHECK_THAT(errors, Catch::Contains("/etc/p.yaml:2:8: error: batch: must be between 1 and 10000, got 0"));
    CHECK_THAT(errors, Catch::Contains("/etc/p.yaml:3:11: error: max_body: must be between 1B and 64MiB, got 65MiB"));
    CHECK_THAT(errors, Catch::Contains("/etc/p.yaml:4:11: error: interval: must be more than 0"));
    CHECK_THAT(errors,
               Catch::Contains("/etc/p.yaml:5:10: error: refresh: must be 0 (never) or at least 1s, got 500ms"));
    CHECK_THAT(errors, Catch::Contains("/etc/p.yaml:6:9: error: linger: must be at most 1s, got 2s"));
    CHECK(s->diags.error_count() == 5);
}

TEST_CASE("an integer bound to a narrow member keeps the member's range") {
    struct Narrow {
        std::uint8_t batch = 0;
    };
    const Bound<Narrow> bound[] = {vigil::bind<&Narrow::batch>("batch")};
    auto s = section("batch: 300\n");
    Narrow n;
    CHECK_FALSE(vigil::load_bound<Narrow>(bound, s->node, n, s->diags));
    CHECK_THAT(s->errors(), Catch::Contains("batch: must be at most 255, got 300"));
    auto negative = section("batch: -1\n");
    CHECK_FALSE(vigil::load_bound<Narrow>(bound, negative->node, n, negative->diags));
    CHECK_THAT(negative->errors(), Catch::Contains("batch: must be at least 0, got -1"));
}

TEST_CASE("an item reads what it does not set from the plugin-level section") {
    auto s = section("interval: 5s\nretries: 3\nitems:\n  - name: a\n  - name: b\n    interval: 1s\n    retries: 11\n");
    auto items = s->node.items("items");
    REQUIRE(items.size() == 2);
    Item a;
    REQUIRE(vigil::load_bound<Item>(kItemBound, items[0], a, s->diags, &s->node));
    CHECK(a.name == "a");
    CHECK(a.interval == 5s);
    CHECK(a.retries == 3);
    Item b;
    CHECK_FALSE(vigil::load_bound<Item>(kItemBound, items[1], b, s->diags, &s->node));
    CHECK(b.interval == 1s);
    CHECK(b.retries == -1);
    CHECK_THAT(s->errors(), Catch::Contains("items[1].retries: must be between 0 and 10, got 11"));
}

TEST_CASE("a secret bound to an optional counts as set through its _file form") {
    struct Token {
        std::optional<vigil::Secret> token;
    };
    const Bound<Token> bound[] = {vigil::bind<&Token::token>("token")};
    auto unset = section("");
    Token t;
    REQUIRE(vigil::load_bound<Token>(bound, unset->node, t, unset->diags));
    CHECK_FALSE(t.token.has_value());
    auto set = section("token: abc\n");
    REQUIRE(vigil::load_bound<Token>(bound, set->node, t, set->diags));
    REQUIRE(t.token.has_value());
    CHECK(t.token->reveal() == "abc");
}

TEST_CASE("bound_problems names a key missing from the table, a key bound twice and a type that does not fit") {
    CHECK(vigil::bound_problems<Config>(kTable, kBound).empty());
    CHECK(vigil::bound_problems<Item>(kItem, kItemBound).empty());
    struct Wrong {
        bool topic = false;
        Mode batch = Mode::Fast;
        std::string nowhere;
    };
    const Bound<Wrong> wrong[] = {
        vigil::bind<&Wrong::topic>("topic"),     vigil::bind<&Wrong::batch>("batch"),
        vigil::bind<&Wrong::nowhere>("nowhere"), vigil::bind<&Wrong::nowhere>("path"),
        vigil::bind<&Wrong::nowhere>("path"),
    };
    auto problems = vigil::bound_problems<Wrong>(kTable, wrong);
    REQUIRE(problems.size() == 5);
    CHECK(problems[0] == "topic is of type string, which its member cannot hold");
    CHECK(problems[1] == "batch is of type integer, which its member cannot hold");
    CHECK(problems[2] == "batch is bound to an enum but lists no one_of");
    CHECK(problems[3] == "nowhere is bound but not in the option table");
    CHECK(problems[4] == "path is bound twice");
}

TEST_CASE("a plugin-level value every item inherits is reported once, and still fails each item", "[unit]") {
    auto s = section("interval: 0s\nitems:\n  - name: a\n  - name: b\n  - name: c\n    interval: 0s\n");
    int refused = 0;
    for (const auto& item : s->node.items("items")) {
        Item i;
        refused += vigil::load_bound<Item>(kItemBound, item, i, s->diags, &s->node) ? 0 : 1;
    }
    CHECK(refused == 3);  // each item knows it failed
    CHECK(s->diags.error_count() == 3);
    CHECK(s->errors() ==
          "/etc/p.yaml:2:11: error: interval: must be more than 0\n"
          "/etc/p.yaml:7:15: error: items[2].interval: must be more than 0\n");
}
