// SPDX-License-Identifier: Apache-2.0
// icmp_check against real hosts: the loopback addresses (IPv4 and IPv6, and a name), and an
// address in a network namespace this test makes: answering, then silent, then gone.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fmt/core.h>
#include <fmt/format.h>

#include "capture.hpp"
#include "icmp_check.hpp"
#include "plugin_config.hpp"
#include "support.hpp"

using namespace vigil::plugins::icmp_check;
using vigil::test::Capture;
using vigil::test::run;

namespace {
// One round (--once) of icmp_check with `yaml` as its section: every record.
std::vector<vigil::CheckRecord> run_once(const std::string& yaml) {
    auto s = vigil::test::check_section("plugin: icmp_check\n" + yaml, kOptions, vigil::PluginKind::Source);
    INFO(s->errors());
    auto c = parse_config(s->node, s->diags);
    REQUIRE(c);
    IcmpCheck check(kKind, std::move(*c), "icmp_check.test", "probe", vigil::Logger("icmp_check.test"));
    Capture capture;
    vigil::test::NeverStop never;
    REQUIRE(check.run(capture, never, vigil::RunOptions{true}).ok());
    return capture.all();
}

// The same round: the record of each site.
std::map<std::string, vigil::CheckRecord> check_once(const std::string& yaml) {
    return vigil::test::by_name(run_once(yaml));
}

void sh(const std::vector<std::string>& argv) {
    auto r = run(argv);
    INFO(fmt::format("{}: {}{}", fmt::join(argv, " "), r.out, r.err));
    REQUIRE(r.code == 0);
}

// A network namespace joined to this one by a veth pair: 10.213.N.1 here, 10.213.N.2 there.
class Netns {
  public:
    Netns() : name_(fmt::format("vigil-icmp-{}", ::getpid())), link_(fmt::format("vgl{}", ::getpid() % 100000)) {
        auto n = ::getpid() % 250 + 1;
        here_ = fmt::format("10.213.{}.1", n);
        there_ = fmt::format("10.213.{}.2", n);
        sh({"/usr/sbin/ip", "netns", "add", name_});
        sh({"/usr/sbin/ip", "link", "add", link_, "type", "veth", "peer", "name", link_ + "p"});
        sh({"/usr/sbin/ip", "link", "set", link_ + "p", "netns", name_});
        sh({"/usr/sbin/ip", "addr", "add", here_ + "/30", "dev", link_});
        sh({"/usr/sbin/ip", "link", "set", link_, "up"});
        sh({"/usr/sbin/ip", "netns", "exec", name_, "ip", "addr", "add", there_ + "/30", "dev", link_ + "p"});
        sh({"/usr/sbin/ip", "netns", "exec", name_, "ip", "link", "set", link_ + "p", "up"});
    }
    ~Netns() { drop(); }
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;

    const std::string& there() const { return there_; }
    void silence() { sh({"/usr/sbin/ip", "netns", "exec", name_, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"}); }
    void drop() {
        if (!dropped_) {
            dropped_ = true;
            run({"/usr/sbin/ip", "link", "del", link_});  // takes its peer along
            run({"/usr/sbin/ip", "netns", "del", name_});
        }
    }

  private:
    std::string name_, link_, here_, there_;
    bool dropped_ = false;
};
}  // namespace

TEST_CASE("icmp_check: loopback answers over IPv4 and IPv6, by address and by name", "[integration]") {
    auto records = check_once(
        "packets: 3\npacket_interval: 20ms\ntimeout: 1s\ngroup: net\nsites:\n"
        "  - {name: v4, url: 'icmp://127.0.0.1', retries: 2}\n"
        "  - {name: v4-other, url: 'icmp://127.0.0.53', packets: 1}\n"
        "  - {name: v6, url: 'icmp://[::1]', max_loss: 0}\n"
        "  - {name: named, url: 'icmp://localhost', ip_family: ipv4}\n"
        "  - {name: too-slow, url: 'icmp://127.0.0.1', max_rtt: 1ns}\n");
    REQUIRE(records.size() == 5);
    const auto& v4 = records.at("v4");
    INFO(v4.error_detail.value_or(""));
    CHECK(v4.ok == true);
    CHECK(v4.kind == "icmp");
    CHECK(v4.packets_sent == 3);
    CHECK(v4.packets_received == 3);
    CHECK(v4.packet_loss == 0.0);
    CHECK(v4.rtt_min_ms <= v4.rtt_avg_ms);
    CHECK(v4.rtt_avg_ms <= v4.rtt_max_ms);
    CHECK(v4.rtt_stddev_ms >= 0.0);
    CHECK(v4.response_time == v4.rtt_avg_ms);
    CHECK(v4.remote_ip == "127.0.0.1");
    CHECK(v4.group == "net");
    CHECK(v4.attempts == 1);  // passed at once: no retry
    CHECK_FALSE(v4.status_code);
    CHECK(records.at("v4-other").packets_sent == 1);
    CHECK(records.at("v4-other").ok == true);
    CHECK(records.at("v6").ok == true);
    CHECK(records.at("v6").remote_ip == "::1");
    CHECK(records.at("named").ok == true);
    CHECK(records.at("named").dns_ms.has_value());
    CHECK(records.at("too-slow").error == "rtt");
    CHECK(records.at("too-slow").error_detail->find("is above max_rtt 1ns") != std::string::npos);
}

TEST_CASE("icmp_check: a host in a namespace answers, then stays silent, then is gone", "[integration]") {
    if (::geteuid() != 0) {
        WARN("not root: no network namespace can be made here (CI runs this as root)");
        return;
    }
    Netns ns;
    auto yaml = fmt::format(
        "packets: 2\npacket_interval: 20ms\ntimeout: 300ms\nsites:\n  - {{name: h, url: 'icmp://{}'}}\n", ns.there());
    auto up = check_once(yaml).at("h");
    INFO(up.error_detail.value_or(""));
    CHECK(up.ok == true);
    CHECK(up.packets_received == 2);

    ns.silence();
    auto silent = check_once(yaml).at("h");
    CHECK(silent.error == "timeout");
    CHECK(silent.error_detail == "no reply to 2 echo requests within 300ms each");
    CHECK(silent.packets_sent == 2);
    CHECK(silent.packets_received == 0);
    CHECK(silent.packet_loss == 100.0);
    CHECK_FALSE(silent.rtt_avg_ms);

    // Retried while silent: one record, the last attempt's, with the attempts it took.
    auto retried = run_once("retries: 2\nretry_delay: 50ms\n" + yaml);
    REQUIRE(retried.size() == 1);
    CHECK(retried[0].error == "timeout");
    CHECK(retried[0].attempts == 3);
    CHECK(retried[0].packets_sent == 2);  // the last attempt's own count

    ns.drop();
    auto gone = check_once(yaml).at("h");
    INFO(gone.error_detail.value_or(""));
    CHECK(gone.ok == false);
    // No route any more: the kernel refuses to send (or, with a default route, nothing answers).
    CHECK((gone.error == "send" || gone.error == "timeout" || gone.error == "unreachable"));
}

TEST_CASE("icmp_check: loss above max_loss and a slow mean are their own error kinds", "[unit]") {
    Site s;
    s.timeout = std::chrono::seconds(1);
    Tally t{4, 3, {1.0, 2.0, 3.0}, "", ""};
    CHECK(judge(s, t).first == Failure::None);  // one reply is enough without max_loss
    s.max_loss = 10;
    CHECK(judge(s, t) == std::pair{Failure::Loss, std::string("1 of 4 echo requests unanswered (25.0% loss, max_loss "
                                                              "10%)")});
    s.max_loss = 25;
    s.max_rtt = std::chrono::milliseconds(1);
    CHECK(judge(s, t) == std::pair{Failure::Rtt, std::string("mean round-trip time 2.000 ms is above max_rtt 1ms")});
    Tally none{3, 0, {}, "", ""};
    CHECK(judge(s, none) == std::pair{Failure::Timeout, std::string("no reply to 3 echo requests within 1s each")});
    none.send_error = "Network is unreachable";
    CHECK(judge(s, none).first == Failure::Send);
    none.unreachable = "host unreachable";
    CHECK(judge(s, none) == std::pair{Failure::Unreachable, std::string("host unreachable")});
}
