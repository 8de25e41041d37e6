// SPDX-License-Identifier: Apache-2.0
#include "dns_check_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "check_options.hpp"
#include "retries.hpp"
#include "host_port.hpp"
#include "check_config.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::dns_check {

const char* const kTypes[] = {"A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA", "SRV", "PTR", nullptr};
const char* const kRcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
                               "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", nullptr};

namespace {
const char* const kTransports[] = {"udp", "tcp", nullptr};
// The wire numbers of kTypes, in its order (RFC 1035, 3596, 2782, 8659).
constexpr int kTypeNumbers[] = {1, 28, 5, 15, 2, 16, 6, 257, 33, 12};
}  // namespace

// Options a site may set; at plugin level the same keys set the default for every site.
#define VIGIL_DNS_CHECK_SITE_OPTIONS(DEFAULT)                                                                    \
    {.key = "interval",                                                                                          \
     .type = OptionType::Duration,                                                                               \
     .default_value = DEFAULT("30s"),                                                                            \
     .description = "Time between the starts of two checks of a site (fixed rate, no drift)"},                   \
        {.key = "timeout",                                                                                       \
         .type = OptionType::Duration,                                                                           \
         .default_value = DEFAULT("5s"),                                                                         \
         .description =                                                                                          \
             "Limit for the query and its answer (over TCP too after a truncated one); past it the "             \
             "check is error=timeout"},                                                                          \
        VIGIL_RETRY_SITE_OPTIONS(DEFAULT){                                                                       \
            .key = "rcode",                                                                                      \
            .type = OptionType::String,                                                                          \
            .default_value = DEFAULT("NOERROR"),                                                                 \
            .one_of = kRcodes,                                                                                   \
            .description =                                                                                       \
                "The response code the answer must have (NXDOMAIN for a name that must not exist); "             \
                "another is error=rcode"},                                                                       \
        {.key = "answers",                                                                                       \
         .type = OptionType::StringList,                                                                         \
         .description =                                                                                          \
             "The records of the asked type the answer must hold, in presentation form (127.0.0.1, "             \
             "10 mail.example.com., \"v=spf1 -all\"), as a set: order does not matter, nothing more "            \
             "or less; else error=answer"},                                                                      \
        {.key = "expect",                                                                                        \
         .type = OptionType::String,                                                                             \
         .description =                                                                                          \
             "RE2 pattern searched for in the answers (one per line, sorted); no match is "                      \
             "error=expect"},                                                                                    \
        {.key = "allow_empty",                                                                                   \
         .type = OptionType::Bool,                                                                               \
         .default_value = DEFAULT("false"),                                                                      \
         .description = "Whether a NOERROR answer with no record of the asked type passes (else error=answer)"}, \
        {.key = "recursion",                                                                                     \
         .type = OptionType::Bool,                                                                               \
         .default_value = DEFAULT("true"),                                                                       \
         .description =                                                                                          \
             "Ask for recursion (the RD flag); false to ask an authoritative server only what it "               \
             "holds"},                                                                                           \
        {.key = "transport",                                                                                     \
         .type = OptionType::String,                                                                             \
         .default_value = DEFAULT("udp"),                                                                        \
         .one_of = kTransports,                                                                                  \
         .description = "udp (again over TCP when the answer is truncated) or tcp only"},                        \
        {.key = "group",                                                                                         \
         .type = OptionType::String,                                                                             \
         .description = "The site's group (a team, a product): the records' group"},

const OptionSpec kSiteOptions[] = {
    {.key = "name",
     .type = OptionType::String,
     .required = true,
     .description = "The site's name (200 characters at most)"},
    {.key = "url",
     .type = OptionType::String,
     .required = true,
     .description = "dns://[server[:port]]/name[?type=T]: no server asks the system's resolvers; type A by default"},
    VIGIL_DNS_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_NO_DEFAULT){},
};

const OptionSpec kOptions[] = {
    VIGIL_CHECK_PLUGIN_OPTIONS(kSiteOptions),
    VIGIL_DNS_CHECK_SITE_OPTIONS(VIGIL_SITE_OPTION_DEFAULT){},
};

namespace {

// name and url are the site's own; everything else may come from the plugin level.
const Bound<Site> kSiteBound[] = {
    bind<&Site::interval>("interval", {.above_zero = true}),
    bind<&Site::timeout>("timeout", {.above_zero = true}),
    bind<&Site::retries>("retries", {.min = 0, .max = 10}),
    bind<&Site::retry_delay>("retry_delay"),
    bind<&Site::rcode>("rcode"),
    bind<&Site::answers>("answers"),
    bind<&Site::expect_text>("expect"),
    bind<&Site::allow_empty>("allow_empty"),
    bind<&Site::recursion>("recursion"),
    bind<&Site::transport>("transport"),
    bind<&Site::group>("group"),
};

constexpr std::size_t kMaxName = 253;  // RFC 1035's limit on a name in text, without the root's dot
constexpr std::size_t kMaxLabel = 63;

// Letters, digits, '-', '_' (SRV's _service._proto) and '*' (a wildcard's own name); no label
// empty or longer than 63.
std::optional<std::string> name_problem(std::string_view name) {
    if (name.empty()) {
        return "has no name to ask for: dns://server/name";
    }
    if (name.size() > kMaxName) {
        return fmt::format("the name is {} characters long; a DNS name has {} at most", name.size(), kMaxName);
    }
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) {
                return "the name has an empty label (two dots in a row, or a leading dot)";
            }
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '*';
        if (!ok) {
            return fmt::format("the name holds '{}': only letters, digits, '-', '_' and '*' are allowed",
                               escape_controls(std::string(1, c)));
        }
        if (++label > kMaxLabel) {
            return fmt::format("a label of the name is longer than {} characters", kMaxLabel);
        }
    }
    if (label == 0) {
        return "the name has an empty label (two dots in a row, or a leading dot)";  // "a.." ends so
    }
    return std::nullopt;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

std::optional<std::string> server_problem(std::string_view authority, Target& t) {
    if (authority.empty()) {
        return std::nullopt;  // the system's resolvers
    }
    std::string_view port_text;
    bool has_port = false;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return "an IPv6 server is written [address] or [address]:port";
        }
        t.server = std::string(authority.substr(1, close - 1));
        auto rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            return "an IPv6 server is written [address] or [address]:port";
        }
        has_port = !rest.empty();
        port_text = has_port ? rest.substr(1) : rest;
        if (!checks::is_address_of(AF_INET6, t.server)) {
            return fmt::format("\"{}\" is not an IPv6 address", escape_controls(t.server));
        }
    } else {
        auto colon = authority.find(':');
        t.server = std::string(authority.substr(0, colon));
        has_port = colon != std::string_view::npos;
        port_text = has_port ? authority.substr(colon + 1) : std::string_view();
        if (!checks::is_address_of(AF_INET, t.server)) {
            return fmt::format(
                "the server \"{}\" is not an IPv4 address or a bracketed IPv6 one (a resolver is named by "
                "address; leave it out for the system's: dns:///name)",
                escape_controls(t.server));
        }
    }
    if (has_port && !parse_port(port_text, t.port)) {
        return fmt::format("\"{}\" is not a port from 1 to 65535", escape_controls(std::string(port_text)));
    }
    return std::nullopt;
}

}  // namespace

const std::span<const Bound<Config>> kBound{checks::kPluginBound<Config>};
const std::span<const Bound<Site>> kBoundSite{kSiteBound};

std::optional<Target> parse_target(std::string_view url, std::string& why) {
    constexpr std::string_view kScheme = "dns://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        why = "must start with dns://";
        return std::nullopt;
    }
    auto rest = url.substr(kScheme.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        why = "has no name to ask for: dns://server/name";
        return std::nullopt;
    }
    Target t;
    if (auto problem = server_problem(rest.substr(0, slash), t)) {
        why = *problem;
        return std::nullopt;
    }
    rest = rest.substr(slash + 1);
    auto question = rest.find('?');
    auto name = rest.substr(0, question);
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);  // the root's dot: www.example.com. is www.example.com
    }
    if (auto problem = name_problem(name)) {
        why = *problem;
        return std::nullopt;
    }
    t.name = std::string(name);
    if (question != std::string_view::npos) {
        auto query = rest.substr(question + 1);
        constexpr std::string_view kType = "type=";
        if (query.substr(0, kType.size()) != kType) {
            why = "the only query parameter is type=, e.g. ?type=MX";
            return std::nullopt;
        }
        auto type = std::string(query.substr(kType.size()));
        std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
        std::size_t i = 0;
        while (kTypes[i] != nullptr && type != kTypes[i]) {
            ++i;
        }
        if (kTypes[i] == nullptr) {
            why = fmt::format(
                "\"{}\" is not a type dns_check asks for; one of A, AAAA, CNAME, MX, NS, TXT, SOA, "
                "CAA, SRV, PTR",
                escape_controls(std::string(query.substr(kType.size()))));
            return std::nullopt;
        }
        t.type = kTypes[i];
        t.qtype = kTypeNumbers[i];
    }
    return t;
}

namespace {

// Reads one site: its own value where it sets one, else the plugin-level one. Patterns are
// compiled once per text (sites share a handful; an RE2 costs tens of KiB).
std::optional<Site> read_site(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags,
                              std::map<std::string, Pattern, std::less<>>& patterns,
                              std::set<std::string, std::less<>>& warned) {
    auto before = diags.error_count();
    Site s;
    s.name = entry.get_string("name");
    s.url = entry.get_string("url");
    load_bound<Site>(kBoundSite, entry, s, diags, &plugin);
    auto from = [&](const char* key) -> const ConfigNode& { return entry.has(key) ? entry : plugin; };
    auto error = [&](const char* key, std::string message) {
        diags.error(from(key).location_of(key), from(key).path_of(key), std::move(message));
    };
    if (auto problem = label_problem(s.name, 200)) {
        error("name", "the site's name " + *problem);
    }
    if (auto problem = label_problem(s.group, 200); problem && !s.group.empty()) {
        error("group", "the group's name " + *problem);
    }
    std::string why;
    if (auto target = parse_target(s.url, why)) {
        s.target = *target;
    } else {
        error("url", fmt::format("\"{}\" is not a DNS target: {}", escape_controls(s.url), why));
    }
    if (s.expect_text) {
        re2::RE2::Options o;
        o.set_log_errors(false);
        auto& cached = patterns[*s.expect_text];
        if (!cached) {
            // Multi-line: ^ and $ match at each record, as one writes a pattern for one record.
            cached = Pattern(std::make_shared<re2::RE2>("(?m)" + *s.expect_text, o));
        }
        if (!cached->ok()) {
            re2::RE2 alone(*s.expect_text, o);  // its error names the pattern as written, without (?m)
            error("expect", fmt::format("invalid regular expression \"{}\": {}", *s.expect_text, alone.error()));
        }
        s.expect = cached;
    }
    if ((!s.answers.empty() || s.expect_text) && s.rcode != "NOERROR") {
        error(s.answers.empty() ? "expect" : "answers",
              fmt::format("an answer with rcode {} holds no records to compare: answers and expect need rcode "
                          "NOERROR",
                          s.rcode));
    }
    std::sort(s.answers.begin(), s.answers.end());
    s.answers.erase(std::unique(s.answers.begin(), s.answers.end()), s.answers.end());
    if (s.timeout > s.interval && s.interval > Duration::zero() &&
        warned.insert(from("timeout").path_of("timeout")).second) {
        diags.warning(from("timeout").location_of("timeout"), from("timeout").path_of("timeout"),
                      fmt::format("timeout {} is longer than interval {}: a slow server will skip slots",
                                  format_duration(s.timeout), format_duration(s.interval)));
    }
    if (diags.error_count() > before) {
        return std::nullopt;
    }
    return s;
}

checks::ReadSite<Site> make_site_reader() {
    // Shared by every site read: patterns compiled once per text, one warning per setting.
    auto patterns = std::make_shared<std::map<std::string, Pattern, std::less<>>>();
    auto warned = std::make_shared<std::set<std::string, std::less<>>>();
    return [patterns, warned](const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags) {
        return read_site(plugin, entry, diags, *patterns, *warned);
    };
}

}  // namespace

const checks::CheckKind<Site> kKind{.plugin = "dns_check",
                                    .kind = "dns",
                                    .site_table = kSiteOptions,
                                    .restricted = {},
                                    .make_reader = &make_site_reader};

std::optional<Config> parse_config(const ConfigNode& node, Diagnostics& diags) {
    return checks::read_check_config<Config>(node, diags, kBound, kKind);
}

}  // namespace vigil::plugins::dns_check
