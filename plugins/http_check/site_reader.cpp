// SPDX-License-Identifier: Apache-2.0
// One site read from its entry, the plugin-level values as defaults: every option's own checks,
// each problem a located diagnostic.
#include "http_check_config.hpp"
#include "sites_topic.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <net/if.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include <fmt/core.h>

#include "vigil/config_map.hpp"
#include "vigil/redact.hpp"
#include "vigil/text.hpp"

namespace vigil::plugins::http_check {

bool StatusSet::contains(int status) const {
    for (const auto& [lo, hi] : ranges) {
        if (status >= lo && status <= hi) {
            return true;
        }
    }
    return false;
}

std::string StatusSet::to_string() const {
    std::string out;
    for (const auto& [lo, hi] : ranges) {
        if (!out.empty()) {
            out += ',';
        }
        out += lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
    }
    return out;
}

// What a site reads straight into its members: its own value, else the plugin-level one (or its
// default). The rest needs more than a value: a pattern to compile, a file to check, a rule that
// spans two options.
namespace {
const Bound<Site> kSiteBound[] = {
    bind<&Site::max_response_time>("max_response_time", {.above_zero = true}),
    bind<&Site::min_cert_validity>("min_cert_validity", {.above_zero = true}),
    bind<&Site::interval>("interval", {.above_zero = true}),
    bind<&Site::timeout>("timeout", {.above_zero = true}),
    bind<&Site::method>("method"),
    bind<&Site::body>("body"),
    bind<&Site::follow_redirects>("follow_redirects"),
    bind<&Site::max_redirects>("max_redirects", {.min = 0, .max = 100}),
    bind<&Site::allow_downgrade>("allow_downgrade"),
    bind<&Site::verify_tls>("verify_tls"),
    bind<&Site::ip_family>("ip_family"),
    // Each check in flight may hold up to max_body in memory (when a regex needs the body):
    // a thousand checks at the cap is already 64 GiB of address space to plan for.
    bind<&Site::max_body>("max_body", {.min = 1, .max = 64 << 20}),
    bind<&Site::user_agent>("user_agent"),
    bind<&Site::http_version>("http_version"),
    bind<&Site::ip_mode>("ip_mode"),
    bind<&Site::retries>("retries", {.min = 0, .max = 10}),
    bind<&Site::retry_delay>("retry_delay"),
    bind<&Site::body_excerpt>("body_excerpt"),
    bind<&Site::group>("group"),
};
}  // namespace
const std::span<const Bound<Site>> kBoundSite{kSiteBound};

namespace {

std::optional<std::pair<int, int>> parse_status(std::string_view s) {
    auto number = [](std::string_view t) -> std::optional<int> {
        int v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc() || p != t.data() + t.size() || v < 100 || v > 599) {
            return std::nullopt;
        }
        return v;
    };
    if (s.size() == 3 && (s.substr(1) == "xx" || s.substr(1) == "XX") && s[0] >= '1' && s[0] <= '5') {
        int c = (s[0] - '0') * 100;
        return std::pair{c, c + 99};
    }
    if (auto dash = s.find('-'); dash != std::string_view::npos) {
        auto lo = number(s.substr(0, dash));
        auto hi = number(s.substr(dash + 1));
        if (lo && hi && *lo <= *hi) {
            return std::pair{*lo, *hi};
        }
        return std::nullopt;
    }
    if (auto v = number(s)) {
        return std::pair{*v, *v};
    }
    return std::nullopt;
}

bool proxy_url_ok(const std::string& url) {
    static const char* const kSchemes[] = {"http", "https", "socks4", "socks4a", "socks5", "socks5h"};
    CURLU* u = curl_url();
    bool ok = false;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        char *scheme = nullptr, *host = nullptr;
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        for (const char* known : kSchemes) {
            ok = ok || (scheme != nullptr && strcasecmp(scheme, known) == 0);
        }
        ok = ok && host != nullptr && *host != '\0';
        curl_free(scheme);
        curl_free(host);
    }
    curl_url_cleanup(u);
    return ok;
}

// What is wrong with the value of header `name`: a line break would start another header;
// otherwise it may be empty and hold tabs (RFC 9110 field-vchar, SP and HTAB), and no other
// control character.
std::optional<std::string> header_value_problem(const std::string& name, std::string v) {
    if (v.find_first_of("\r\n") != std::string::npos) {
        return fmt::format("header \"{}\" contains a line break", name);
    }
    std::replace(v.begin(), v.end(), '\t', ' ');
    if (auto problem = label_problem(v, 8192); problem && !v.empty()) {
        return fmt::format("the value of header \"{}\" {}", name, *problem);
    }
    return std::nullopt;
}

bool header_name_ok(const std::string& n) {
    if (n.empty()) {
        return false;
    }
    for (unsigned char c : n) {
        if (c <= 32 || c >= 127 ||
            std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) != std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// Reads one site: the site's own value where it sets one, else the plugin-level value (or its
// default). `plugin` is the plugin's section; `site` one entry of a list.
class SiteReader {
  public:
    SiteReader(const ConfigNode& plugin, const ConfigNode& site, Diagnostics& diags, SiteCache& cache,
               const TopicPolicy* topic)
        : plugin_(plugin), site_(site), diags_(diags), cache_(cache), warned_(cache.warned), regexes_(cache.regexes),
          topic_(topic) {}

    std::optional<Site> read() {
        const Site* base = topic_ == nullptr && sets_identity_only() ? base_site() : nullptr;
        Site s = base != nullptr ? *base : Site{};
        if (topic_ != nullptr) {
            for (const char* key : kTopicRestricted) {
                if (site_.has(key) && topic_->allow.count(key) == 0) {
                    error(key,
                          fmt::format("a sites-topic message may not set {} unless sites_topic.allow lists it", key));
                }
            }
        }
        s.name = site_.get_string("name");
        // A name travels into keys, headers, logs and pages: a control character in it could
        // start another header line or forge a log line.
        if (auto problem = label_problem(s.name, 200)) {
            error("name", "the site's name " + *problem);
        }
        s.url = site_.get_string("url");
        s.origin = check_url(s.url);
        s.shown_url = redact_url(s.url);
        compile("regex", s.regex_text, s.regex);
        compile("regex_absent", s.regex_absent_text, s.regex_absent);
        if (base == nullptr) {
            read_profile(s);
        }
        if (failed_) {
            return std::nullopt;
        }
        return s;
    }

    /// Every option but the identity's, each from the site or else the plugin level.
    void read_profile(Site& s) {
        if (!load_bound<Site>(kSiteBound, site_, s, diags_, &plugin_)) {
            failed_ = true;
        }
        if (s.max_response_time >= s.timeout && s.timeout > Duration::zero()) {
            error("max_response_time",
                  fmt::format("{} is not below timeout {}: a check that slow is already error=timeout",
                              format_duration(s.max_response_time), format_duration(s.timeout)));
        }
        if (s.timeout > s.interval && s.interval > Duration::zero() &&
            warned_.insert(from("timeout").path_of("timeout") + "/" + from("interval").path_of("interval")).second) {
            const auto& n = from("timeout");
            diags_.warning(n.location_of("timeout"), n.path_of("timeout"),
                           fmt::format("timeout {} is longer than interval {}: a slow site will skip slots",
                                       format_duration(s.timeout), format_duration(s.interval)));
        }
        s.headers = credential_from("headers").get_string_map("headers");
        for (const auto& [k, v] : s.headers) {
            const auto& n = credential_from("headers");
            if (!header_name_ok(k)) {
                diags_.error(n.location_of_entry("headers", k), n.path_of("headers"),
                             fmt::format("invalid header name \"{}\"", k));
                failed_ = true;
            }
            if (auto problem = header_value_problem(k, v)) {
                diags_.error(n.location_of_entry("headers", k), n.path_of("headers"), *problem);
                failed_ = true;
            }
        }
        if (s.body) {
            // curl would send a GET with a body as a POST (and a HEAD's body never); peers refuse
            // or drop it. Say so at load instead of sending another method than the one written.
            if (s.method == "GET" || s.method == "HEAD") {
                error("body", fmt::format("a {} request sends no body: set method (POST, PUT, PATCH...) or drop body",
                                          s.method));
            }
        }
        auto statuses = from("expect_status").get_string_list("expect_status");
        if (!from("expect_status").has("expect_status")) {
            statuses = {"200-399"};
        }
        for (const auto& st : statuses) {
            if (auto r = parse_status(st)) {
                s.expect_status.ranges.push_back(*r);
            } else {
                error(
                    "expect_status",
                    fmt::format(
                        "\"{}\" is not a status code (100-599), a range such as 200-299, or a class such as 2xx", st));
            }
        }
        if (statuses.empty()) {
            error("expect_status", "must list at least one status");
        }
        if (!s.verify_tls && warned_.insert(from("verify_tls").path_of("verify_tls")).second) {
            const auto& n = from("verify_tls");
            diags_.warning(n.location_of("verify_tls"), n.path_of("verify_tls"),
                           "certificates and host names are not verified: a check passes against any server "
                           "that answers in the site's name (prefer ca_file for a private CA)");
        }
        if (s.allow_downgrade && warned_.insert(from("allow_downgrade").path_of("allow_downgrade")).second) {
            const auto& n = from("allow_downgrade");
            diags_.warning(n.location_of("allow_downgrade"), n.path_of("allow_downgrade"),
                           "redirects from https to plain http are followed: that hop can be read and changed");
        }
        if (from("ca_file").has("ca_file")) {
            s.ca_file = readable("ca_file");
        }
        if (auto problem = label_problem(s.user_agent, 1024); problem && !s.user_agent.empty()) {
            error("user_agent", "the User-Agent " + *problem);
        }
        read_assertions(s);
        read_credentials(s);
        read_transport(s);
        if (auto problem = label_problem(s.group, 200); problem && !s.group.empty()) {
            error("group", "the group's name " + *problem);
        }
    }

    bool failed() const { return failed_; }

  private:
    bool sets_identity_only() const {
        std::size_t own = 0;
        for (const char* key : kIdentityKeys) {
            own += site_.has(key) ? 1 : 0;
        }
        return own == site_.key_count();
    }

    // The plugin-level profile, read once (SiteCache::base), its warnings given with the first
    // site that uses it.
    const Site* base_site() {
        if (!cache_.base) {
            Diagnostics scratch;
            SiteCache cache;
            ConfigNode none;
            SiteReader reader(plugin_, none, scratch, cache, nullptr);
            Site base;
            reader.read_profile(base);
            cache_.base = reader.failed() ? nullptr : std::make_shared<const Site>(std::move(base));
            if (!reader.failed()) {
                for (const auto& d : scratch.entries()) {
                    if (d.severity == Diagnostic::Severity::Warning) {
                        cache_.base_warnings.push_back(d);
                    }
                }
            }
        }
        for (const auto& w : cache_.base_warnings) {
            diags_.warning(w.location, w.path, w.message);  // a site read whole repeats it: counted once
        }
        cache_.base_warnings.clear();
        return cache_.base->get();
    }

    const ConfigNode& from(const char* key) const { return site_.has(key) ? site_ : plugin_; }
    // A credential's source: a topic site inherits none unless sites_topic says so (its URL is
    // whatever the message says, and would receive them).
    const ConfigNode& credential_from(const char* key) const {
        return site_.has(key) || withholds_credentials() ? site_ : plugin_;
    }
    bool withholds_credentials() const { return topic_ != nullptr && !topic_->inherit_credentials; }

    void read_assertions(Site& s) {
        if (auto json = read_json_assertions(from("json"), diags_)) {
            s.json = std::move(*json);
        } else {
            failed_ = true;
        }
        if (auto headers = read_header_assertions(from("expect_headers"), diags_)) {
            s.expect_headers = std::move(*headers);
        } else {
            failed_ = true;
        }
        if (!s.json.empty() && s.method == "HEAD") {
            error("json", "a HEAD request gets no body to judge");
        }
    }

    void read_credentials(Site& s) {
        // A site's own credentials replace the plugin-level ones whole: a site with basic_auth
        // under a plugin-wide bearer_token sends Basic only.
        bool own = site_.has("basic_auth") || site_.has("bearer_token") || site_.has("bearer_token_file");
        const ConfigNode& n = own || withholds_credentials() ? site_ : plugin_;
        if (n.has("basic_auth")) {
            auto auth = n.child("basic_auth");
            s.basic_user = auth.get_string("username");
            s.basic_password = auth.get_secret("password").reveal();
            if (s.basic_user.find(':') != std::string::npos) {
                diags_.error(auth.location_of("username"), auth.path_of("username"),
                             "a Basic user name cannot contain ':'");
                failed_ = true;
            }
        }
        if (n.has("bearer_token") || n.has("bearer_token_file")) {
            s.bearer_token = n.get_secret("bearer_token").reveal();
            if (s.bearer_token.empty()) {
                error("bearer_token", "is empty");
            }
        }
        if (!s.basic_user.empty() && !s.bearer_token.empty()) {
            error("bearer_token", "a site takes basic_auth or bearer_token, not both");
        }
        for (const auto& [k, v] : s.headers) {
            if ((!s.basic_user.empty() || !s.bearer_token.empty()) && strcasecmp(k.c_str(), "Authorization") == 0) {
                error(s.basic_user.empty() ? "bearer_token" : "basic_auth",
                      "headers already set Authorization; keep one of the two");
            }
        }
        for (auto [key, path] :
             {std::pair{"client_cert_file", &s.client_cert_file}, std::pair{"client_key_file", &s.client_key_file}}) {
            if (credential_from(key).has(key)) {
                *path = readable(key);
            }
        }
        if (s.client_cert_file.empty() != s.client_key_file.empty()) {
            error(s.client_cert_file.empty() ? "client_key_file" : "client_cert_file",
                  "client_cert_file and client_key_file go together");
        }
    }

    void read_transport(Site& s) {
        if (from("proxy").has("proxy")) {
            s.proxy = from("proxy").get_string("proxy");
            if (!s.proxy->empty() && !proxy_url_ok(*s.proxy)) {
                error("proxy", fmt::format("\"{}\" is not a proxy URL: http://, https://, socks4://, socks4a://, "
                                           "socks5:// or socks5h:// and a host (\"\" for no proxy)",
                                           redact_url(*s.proxy)));
            }
        }
        for (const auto& host : from("no_proxy").get_string_list("no_proxy")) {
            s.no_proxy += (s.no_proxy.empty() ? "" : ",") + host;
        }
        const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
        if (s.http_version == HttpVersion::Http3 && (curl->features & CURL_VERSION_HTTP3) == 0) {
            error("http_version",
                  fmt::format("libcurl {} here was built without HTTP/3; use auto, 1.1 or 2", curl->version));
        }
        if (s.http_version == HttpVersion::Http2 && (curl->features & CURL_VERSION_HTTP2) == 0) {
            error("http_version",
                  fmt::format("libcurl {} here was built without HTTP/2; use auto or 1.1", curl->version));
        }
        if (from("source_address").has("source_address")) {
            auto address = from("source_address").get_string("source_address");
            unsigned char buf[sizeof(in6_addr)];
            if (inet_pton(AF_INET, address.c_str(), buf) != 1 && inet_pton(AF_INET6, address.c_str(), buf) != 1) {
                error("source_address", fmt::format("\"{}\" is not an IPv4 or IPv6 address", address));
            }
            s.bind = "host!" + address;
        }
        if (from("interface").has("interface")) {
            auto name = from("interface").get_string("interface");
            if (!s.bind.empty()) {
                error("interface", "a site binds to source_address or to interface, not both");
            } else if (if_nametoindex(name.c_str()) == 0) {
                error("interface", fmt::format("no network interface \"{}\" on this host", name));
            }
            s.bind = "if!" + name;
        }
    }

    std::string readable(const char* key) {
        const auto& n = from(key);
        auto path = n.resolve_path(n.get_string(key)).string();
        if (::access(path.c_str(), R_OK) != 0) {
            error(key, fmt::format("cannot read \"{}\": {}", path, std::strerror(errno)));
        }
        return path;
    }

    // Sites usually share a handful of patterns: each is compiled once (an RE2 costs tens of
    // KiB, so 100,000 copies would cost gigabytes).
    void compile(const char* key, std::optional<std::string>& text, Pattern& out) {
        if (!from(key).has(key)) {
            return;
        }
        text = from(key).get_string(key);
        auto& cached = regexes_[*text];
        if (!cached) {
            re2::RE2::Options o;
            o.set_log_errors(false);
            cached = std::make_shared<re2::RE2>(*text, o);
        }
        if (!cached->ok()) {
            error(key, fmt::format("invalid regular expression \"{}\": {}", *text, cached->error()));
        }
        out = cached;
    }

    void error(const char* key, std::string message) {
        const auto& n = from(key);
        diags_.error(n.location_of(key), n.path_of(key), std::move(message));
        failed_ = true;
    }

    // The URL's origin (origin_of), from the one parse that also checks it.
    std::string check_url(const std::string& url) {
        CURLU* u = curl_url();
        std::string origin;
        CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
        if (rc != CURLUE_OK) {
            error("url", fmt::format("invalid URL \"{}\": {}", redact_url(url), curl_url_strerror(rc)));
        } else {
            char* scheme = nullptr;
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
            std::string sc = scheme ? scheme : "";
            curl_free(scheme);
            if (sc != "http" && sc != "https") {
                error("url", fmt::format("URL \"{}\" is not http:// or https://", redact_url(url)));
            }
            origin = origin_of(u);
        }
        curl_url_cleanup(u);
        return origin;
    }

    const ConfigNode& plugin_;
    const ConfigNode& site_;
    Diagnostics& diags_;
    SiteCache& cache_;
    std::set<std::string>& warned_;  // one warning per setting, not one per site sharing it
    std::map<std::string, std::shared_ptr<const re2::RE2>>& regexes_;
    const TopicPolicy* topic_;
    bool failed_ = false;
};

}  // namespace

std::optional<Site> read_site(const ConfigNode& plugin, const ConfigNode& entry, Diagnostics& diags, SiteCache& cache,
                              const TopicPolicy* topic) {
    return SiteReader(plugin, entry, diags, cache, topic).read();
}

TopicSite read_topic_site(const ConfigNode& plugin, const std::string& key, const std::string& json,
                          const std::string& where, const TopicPolicy& policy, SiteCache& cache) {
    TopicSite out;
    auto problem =
        checks::read_topic_entry(key, json, where, kSiteOptions, [&](const ConfigNode& entry, Diagnostics& d) {
            auto site = read_site(plugin, entry, d, cache, &policy);
            if (site) {
                out.site = std::make_shared<const Site>(std::move(*site));
            }
            return site.has_value();
        });
    if (problem) {
        out.site = nullptr;
        out.error = std::move(*problem);
    }
    return out;
}

}  // namespace vigil::plugins::http_check
