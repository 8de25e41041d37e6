// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "escape.hpp"
#include "render.hpp"

namespace vigil::status_page {

namespace {

constexpr const char* kStyle = R"(
:root{--up:#1a7f37;--down:#cf222e;--degraded:#bf8700;--none:#d0d7de;--fg:#1f2328;--muted:#656d76;--line:#d8dee4}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:#f6f8fa}
main{max-width:1040px;margin:0 auto;padding:24px}
header{display:flex;align-items:baseline;justify-content:space-between;flex-wrap:wrap;gap:8px}
h1{font-size:26px;margin:0 0 4px;word-break:break-all}h2{font-size:17px;margin:28px 0 8px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px}
.pill{display:inline-block;border-radius:999px;padding:1px 10px;color:#fff;font-size:13px;font-weight:600}
.up{background:var(--up)}.down{background:var(--down)}.degraded{background:var(--degraded)}.pill.none{background:#8c959f}
.counts span{margin-left:12px;color:var(--muted)}.counts b{color:var(--fg)}
form{display:flex;gap:8px;margin:16px 0}input,select,button{font:inherit;padding:6px 10px;border:1px solid var(--line);border-radius:6px;background:#fff}
input{flex:1}button{background:#1f883d;color:#fff;border-color:#1f883d}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:13px;color:var(--muted);font-weight:600}td.num{font-variant-numeric:tabular-nums}
.name{word-break:break-all}.muted{color:var(--muted)}.kind{font-size:12px;color:var(--muted);border:1px solid var(--muted);border-radius:4px;padding:0 4px}.err{color:var(--down);font-size:13px;word-break:break-word}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.fig .k{font-size:13px;color:var(--muted)}.fig .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.pager{display:flex;justify-content:space-between;margin-top:12px}
svg{display:block;max-width:100%}
)";

std::string page(const View& v, const std::string& title, const std::string& body) {
    return fmt::format(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"
        "<title>{}</title><style>{}</style></head><body><main>{}</main></body></html>\n",
        html(title == v.title ? v.title : title + " · " + v.title), kStyle, body);
}

std::string percent(const std::optional<double>& ratio) {
    if (!ratio) {
        return "—";
    }
    auto text = fmt::format("{:.2f}%", *ratio * 100);
    if (*ratio < 1 && text == "100.00%") {
        return "99.99%";  // never round a failure away
    }
    return text;
}

std::string millis(const std::optional<double>& ms) {
    if (!ms) {
        return "—";
    }
    return *ms >= 10000 ? fmt::format("{:.1f} s", *ms / 1000) : fmt::format("{:.0f} ms", *ms);
}

// "2026-12-05T05:08:50Z" as "2026-12-05 05:08:50 UTC".
std::string when(const std::string& iso) {
    if (iso.size() != 20 || iso[10] != 'T' || iso[19] != 'Z') {
        return html(iso);
    }
    return html(iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC");
}

std::string pill(const std::string& state) {
    auto known = state == "up" || state == "down" || state == "degraded";
    return fmt::format("<span class=\"pill {}\" data-state=\"{}\">{}</span>", known ? state : "none", html(state),
                       html(state));
}

std::string site_link(const std::string& name) {
    return fmt::format("<a class=\"name\" href=\"/sites/{}\">{}</a>", url_component(name), html(name));
}

// A site that is not a website says what it is (tcp, dns...) beside its name.
std::string kind_tag(const SiteSummary& s) {
    return s.kind == "http" ? std::string()
                            : fmt::format(" <span class=\"kind\" data-field=\"kind\">{}</span>", html(s.kind));
}

// 90 days, one bar each, coloured by that day's uptime.
std::string uptime_bar(const std::vector<Day>& days) {
    std::string out = fmt::format(
        "<svg class=\"bar\" data-testid=\"uptime-bar\" viewBox=\"0 0 {} 34\" width=\"100%\" height=\"34\" "
        "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"uptime per day, 90 days\">",
        days.size() * 10);
    for (std::size_t i = 0; i < days.size(); ++i) {
        const auto& d = days[i];
        std::string colour = "var(--none)", label = "no data";
        if (d.checks > 0) {
            double r = static_cast<double>(d.ok_checks) / static_cast<double>(d.checks);
            colour = r >= 0.999 ? "var(--up)" : r >= 0.99 ? "var(--degraded)" : "var(--down)";
            label = fmt::format("{} uptime, {} checks", percent(r), d.checks);
        }
        out += fmt::format(
            "<rect x=\"{}\" y=\"0\" width=\"8\" height=\"34\" rx=\"2\" fill=\"{}\"><title>{}: {}</title></rect>",
            i * 10, colour, html(d.date), label);
    }
    return out + "</svg>";
}

// The hourly mean response time over 7 days as a line.
std::string response_chart(const std::vector<HourPoint>& hours) {
    if (hours.empty()) {
        return "<p class=\"muted\">No checks in the last 7 days.</p>";
    }
    double top = 1;
    for (const auto& h : hours) {
        top = std::max(top, h.avg_ms);
    }
    constexpr double kWidth = 1000, kHeight = 160;
    std::string points, dots;
    for (std::size_t i = 0; i < hours.size(); ++i) {
        double x =
            hours.size() == 1 ? kWidth / 2 : kWidth * static_cast<double>(i) / static_cast<double>(hours.size() - 1);
        double y = kHeight - 4 - (kHeight - 8) * hours[i].avg_ms / top;
        points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x, y);
        if (hours.size() < 3) {  // a line needs three points to be seen; mark each
            dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"#0969da\"/>", x, y);
        }
    }
    return fmt::format(
        "<svg data-testid=\"response-chart\" viewBox=\"0 0 {} {}\" width=\"100%\" height=\"{}\" "
        "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"mean response time per hour, 7 days\">"
        "<line x1=\"0\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#d8dee4\"/>"
        "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\" "
        "points=\"{}\"/>{}</svg><p class=\"muted\">Mean per hour; top of the chart {}. From {} to {}.</p>",
        kWidth, kHeight, kHeight, kHeight - 4, kWidth, kHeight - 4, points, dots, millis(top), when(hours.front().hour),
        when(hours.back().hour));
}

std::string figure(const std::string& key, const std::string& value, const std::string& id) {
    return fmt::format(
        "<div class=\"fig card\"><div class=\"k\">{}</div><div class=\"v\" data-testid=\"{}\">{}</div></div>",
        html(key), id, html(value));
}

std::string location_name(const std::string& location) { return location.empty() ? "(no location)" : location; }

// "from us, ap" under a state that some locations make: a partial outage is never just "degraded".
std::string behind(const SiteSummary& s) {
    if (s.state == "up" || s.locations.empty() || (s.locations.size() == 1 && s.locations[0].empty())) {
        return "";
    }
    std::string names;
    for (const auto& l : s.locations) {
        names += (names.empty() ? "" : ", ") + location_name(l);
    }
    return fmt::format(" <span class=\"muted\" data-field=\"locations\">{} {}</span>",
                       s.cause == std::optional<std::string>("partial") ? "partial outage:" : "from", html(names));
}

// A row per location, for a site seen from more than one (or from one with a name).
std::string locations_table(const View& v, const std::vector<LocationRow>& rows) {
    if (rows.empty() || (rows.size() == 1 && rows[0].location.empty())) {
        return "";
    }
    std::string out =
        "<h2>Locations</h2><table data-testid=\"locations\"><thead><tr><th>Location</th><th>State</th><th>Since</th>"
        "<th>Last check</th><th>Uptime 24 h</th>";
    out += v.public_view ? "" : "<th>Last error</th>";
    out += "</tr></thead><tbody>";
    for (const auto& l : rows) {
        out += fmt::format(
            "<tr data-location=\"{}\"><td>{}</td><td>{}{}</td><td class=\"muted\">{}</td><td class=\"muted\">{}</td>"
            "<td class=\"num\">{}</td>",
            html(l.location), html(location_name(l.location)), pill(l.state),
            l.voting ? "" : " <span class=\"muted\" data-field=\"silent\">silent: not voting</span>", when(l.since),
            l.last_check ? when(*l.last_check) : "—", percent(l.uptime_24h));
        if (!v.public_view) {
            out += fmt::format("<td class=\"err\">{}</td>", html(l.state == "up" ? "" : l.last_error.value_or("")));
        }
        out += "</tr>";
    }
    return out + "</tbody></table>";
}

std::string query_string(const SiteQuery& q, int page) {
    std::string out = fmt::format("?page={}", page);
    if (!q.search.empty()) {
        out += "&amp;q=" + url_component(q.search);
    }
    if (!q.state.empty()) {
        out += "&amp;state=" + url_component(q.state);
    }
    if (!q.group.empty()) {
        out += "&amp;group=" + url_component(q.group);
    }
    return out;
}

}  // namespace

std::string overview_html(const View& v, const SiteQuery& q, const SiteList& list) {
    std::string body = fmt::format(
        "<header><h1>{}</h1><div class=\"counts\" data-testid=\"counts\"><span><b>{}</b> up</span><span><b>{}</b> "
        "down</span><span><b>{}</b> degraded</span></div></header>",
        html(v.title), list.counts[0], list.counts[1], list.counts[2]);
    body += fmt::format(
        "<form method=\"get\" action=\"/\"><input type=\"search\" name=\"q\" value=\"{}\" "
        "placeholder=\"Search sites\" aria-label=\"Search sites\"><select name=\"state\" "
        "aria-label=\"State\">",
        html(q.search));
    for (const auto& [value, label] : {std::pair{"", "All states"}, std::pair{"down", "Down"},
                                       std::pair{"degraded", "Degraded"}, std::pair{"up", "Up"}}) {
        body += fmt::format("<option value=\"{}\"{}>{}</option>", value, q.state == value ? " selected" : "", label);
    }
    body += "</select>";
    if (!list.groups.empty() || !q.group.empty()) {
        body += "<select name=\"group\" aria-label=\"Group\"><option value=\"\">All groups</option>";
        for (const auto& g : list.groups) {
            body +=
                fmt::format("<option value=\"{}\"{}>{}</option>", html(g), q.group == g ? " selected" : "", html(g));
        }
        body += "</select>";
    }
    body += "<button type=\"submit\">Filter</button></form>";
    body +=
        "<table data-testid=\"sites\"><thead><tr><th>State</th><th>Site</th><th>Group</th><th>Uptime 24 h</th>"
        "<th>Last check</th>";
    body += v.public_view ? "" : "<th>Last error</th>";
    body += "</tr></thead><tbody>";
    for (const auto& s : list.sites) {
        body += fmt::format(
            "<tr data-site=\"{}\"><td>{}{}</td><td>{}</td><td class=\"muted\">{}</td>"
            "<td class=\"num\" data-field=\"uptime_24h\">{}</td><td class=\"muted\">{}</td>",
            html(s.name), pill(s.state), behind(s), site_link(s.name) + kind_tag(s), html(s.group.value_or("")),
            percent(s.uptime_24h), s.last_check ? when(*s.last_check) : "—");
        if (!v.public_view) {
            body += fmt::format("<td class=\"err\">{}</td>", html(s.state == "up" ? "" : s.last_error.value_or("")));
        }
        body += "</tr>";
    }
    if (list.sites.empty()) {
        body += "<tr><td colspan=\"6\" class=\"muted\">No site matches.</td></tr>";
    }
    body += "</tbody></table>";
    long long pages = std::max<long long>(1, (list.total + q.per_page - 1) / q.per_page);
    body += fmt::format(
        "<div class=\"pager\"><span>{}</span><span class=\"muted\" data-testid=\"page\">Page {} of {} "
        "· {} sites</span><span>{}</span></div>",
        q.page > 1 ? fmt::format("<a rel=\"prev\" href=\"/{}\">← Previous</a>", query_string(q, q.page - 1)) : "",
        q.page, pages, list.total,
        q.page < pages ? fmt::format("<a rel=\"next\" href=\"/{}\">Next →</a>", query_string(q, q.page + 1)) : "");
    return page(v, v.title, body);
}

std::string site_html(const View& v, const SiteDetail& d) {
    const auto& s = d.summary;
    std::string body = "<p><a href=\"/\">← All sites</a></p>";
    body += fmt::format("<header><div><h1 data-testid=\"site-name\">{}</h1>", html(s.name));
    if (!v.public_view) {
        bool web = s.url.rfind("http://", 0) == 0 || s.url.rfind("https://", 0) == 0;
        body += web ? fmt::format("<a class=\"muted name\" href=\"{}\" rel=\"noopener noreferrer\">{}</a>", html(s.url),
                                  html(s.url))
                    : fmt::format("<span class=\"muted name\">{}</span>", html(s.url));
    }
    body += fmt::format("<div class=\"muted\" data-testid=\"kind\">Check: {}</div>", html(s.kind));
    if (s.group) {
        body += fmt::format("<div class=\"muted\" data-testid=\"group\">Group: {}</div>", html(*s.group));
    }
    body += fmt::format("</div><div data-testid=\"state\">{}{} <span class=\"muted\">since {}</span></div></header>",
                        pill(s.state), behind(s), when(s.since));
    if (s.state != "up") {
        if (!v.public_view && s.last_error) {
            body += fmt::format("<p class=\"err\" data-testid=\"last-error\">Last error: {}</p>", html(*s.last_error));
        } else if (s.cause) {
            body += fmt::format("<p class=\"err\">Cause: {}</p>", html(*s.cause));
        }
    }
    body += locations_table(v, d.locations);
    body += "<h2>Uptime</h2><div class=\"grid\">";
    body +=
        figure("24 hours", percent(d.h24.uptime), "uptime-24h") + figure("7 days", percent(d.d7.uptime), "uptime-7d") +
        figure("30 days", percent(d.d30.uptime), "uptime-30d") + figure("90 days", percent(d.d90.uptime), "uptime-90d");
    body += "</div><h2>Last 90 days</h2><div class=\"card\">" + uptime_bar(d.days) + "</div>";
    if (s.kind == "dns" || s.kind == "icmp") {
        // The figures that fit the kind: what the name resolves to, or how the host answers pings.
        const auto& last = d.last_result;
        body += "<h2>Last check</h2><div class=\"grid\">";
        if (s.kind == "dns") {
            std::string answers = last.answers.value_or("—");
            std::replace(answers.begin(), answers.end(), '\n', ' ');
            body += figure("Response code", last.rcode.value_or("—"), "rcode") +
                    figure("Answers", answers.empty() ? "none" : answers, "answers");
        } else {
            body +=
                figure("Packet loss", last.packet_loss ? fmt::format("{:.1f}%", *last.packet_loss) : "—",
                       "packet-loss") +
                figure("Round trip (mean)", last.rtt_avg_ms ? fmt::format("{:.2f} ms", *last.rtt_avg_ms) : "—", "rtt");
        }
        body += "</div>";
    }
    body += "<h2>Response time</h2><div class=\"grid\">";
    body += figure("p50, 24 hours", millis(d.h24.p50), "p50-24h") +
            figure("p95, 24 hours", millis(d.h24.p95), "p95-24h") + figure("p50, 7 days", millis(d.d7.p50), "p50-7d") +
            figure("p95, 7 days", millis(d.d7.p95), "p95-7d");
    body += figure("TLS certificate expires", d.tls_not_after ? d.tls_not_after->substr(0, 10) : "—", "tls");
    body += "</div><div class=\"card\" style=\"margin-top:12px\">" + response_chart(d.hours) + "</div>";
    body += "<h2>Incidents</h2><table data-testid=\"incidents\"><thead><tr><th>When</th><th>Change</th><th>Cause</th>";
    body += v.public_view ? "" : "<th>Reason</th>";
    body += "</tr></thead><tbody>";
    for (const auto& i : d.incidents) {
        body += fmt::format("<tr><td class=\"muted\">{}</td><td>{}{} → {}</td><td>{}</td>", when(i.at),
                            i.location ? html(location_name(*i.location)) + ": " : "", pill(i.from), pill(i.to),
                            html(i.cause.value_or("")));
        if (!v.public_view) {
            body += fmt::format("<td class=\"err\">{}</td>", html(i.reason));
        }
        body += "</tr>";
    }
    if (d.incidents.empty()) {
        body += "<tr><td colspan=\"4\" class=\"muted\">No incident recorded.</td></tr>";
    }
    body += "</tbody></table>";
    return page(v, s.name, body);
}

std::string message_html(const View& v, const std::string& heading, const std::string& text) {
    return page(v, heading,
                fmt::format("<p><a href=\"/\">← All sites</a></p><h1>{}</h1><p>{}</p>", html(heading), html(text)));
}

}  // namespace vigil::status_page
