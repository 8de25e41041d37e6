// SPDX-License-Identifier: Apache-2.0
// What every check plugin decides of a sites-topic message before reading it (its kind, from the
// url's scheme), reading one as data, and the mailbox a revoke waits on.
#include <catch2/catch.hpp>

#include <thread>

#include "mailbox.hpp"
#include "sites_topic.hpp"
#include "sites_topic_config.hpp"

using vigil::checks::kind_of_message;
using vigil::checks::kind_of_url;
using namespace std::chrono_literals;

TEST_CASE("kind_of_url: each scheme names its kind, in either case; anything else none", "[unit]") {
    CHECK(kind_of_url("http://a/") == "http");
    CHECK(kind_of_url("HTTPS://a/") == "http");
    CHECK(kind_of_url("tcp://a:1") == "tcp");
    CHECK(kind_of_url("tls://a:443") == "tls");
    CHECK(kind_of_url("StartTLS://a:25") == "tls");
    CHECK(kind_of_url("dns://1.1.1.1/a") == "dns");
    CHECK(kind_of_url("icmp://a") == "icmp");
    CHECK(kind_of_url("ftp://a/").empty());
    CHECK(kind_of_url("tcp:a:1").empty());
    CHECK(kind_of_url("").empty());
    CHECK(kind_of_url("averyveryverylongscheme://a").empty());
}

TEST_CASE("kind_of_message: a JSON object's url, or why there is none", "[unit]") {
    std::string why;
    CHECK(kind_of_message(R"({"name": "a", "url": "tcp://h:22"})", &why) == "tcp");
    CHECK(kind_of_message(R"({"name": "a", "url": "https://h/", "regex": "x"})") == "http");
    CHECK(kind_of_message("{not json", &why).empty());
    CHECK(why == "the value is not a JSON object of site options");
    CHECK(kind_of_message("[1, 2]", &why).empty());
    CHECK(why == "the value is not a JSON object of site options");
    CHECK(kind_of_message("{name: a, url: \"tcp://h:1\"}", &why).empty());  // YAML, not JSON
    CHECK(kind_of_message(R"({"name": "a"})", &why).empty());
    CHECK(why == "the site has no url (a string)");
    CHECK(kind_of_message(R"({"name": "a", "url": 7})", &why).empty());
    CHECK(why == "the site has no url (a string)");
    CHECK(kind_of_message(R"({"name": "a", "url": "gopher://h/\n"})", &why).empty());
    CHECK(why ==
          "url \"gopher://h/\\n\" names no kind of check (http://, https://, tcp://, tls://, starttls://, "
          "dns://, icmp://)");
    // Deeper than any site: refused before anything recurses.
    CHECK(kind_of_message(std::string(100000, '[') + std::string(100000, ']'), &why).empty());
    CHECK(kind_of_message(R"({"a": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]], "url": "tcp://h:1"})").empty());
}

TEST_CASE("read_topic_entry: one site whose name is the key, read as data", "[unit]") {
    static const vigil::OptionSpec table[] = {
        {.key = "name", .type = vigil::OptionType::String, .required = true},
        {.key = "url", .type = vigil::OptionType::String, .required = true},
        {},
    };
    std::string seen;
    auto read = [&](const vigil::ConfigNode& entry, vigil::Diagnostics&) {
        seen = entry.get_string("url");
        return true;
    };
    CHECK_FALSE(
        vigil::checks::read_topic_entry("a", R"({"name": "a", "url": "tcp://${HOME}:1"})", "t/0/1", table, read));
    CHECK(seen == "tcp://${HOME}:1");  // never interpolated
    auto other = vigil::checks::read_topic_entry("b", R"({"name": "a", "url": "tcp://h:1"})", "t/0/2", table, read);
    REQUIRE(other);
    CHECK(other->find("t/0/2:1:") == 0);
    CHECK(other->find("error: [0].name: name \"a\" differs from the message's key \"b\"") != std::string::npos);
    CHECK(vigil::checks::read_topic_entry("a", "[1]", "t/0/3", table, read) ==
          "the value is not a JSON object of site options");
    auto unknown =
        vigil::checks::read_topic_entry("a", R"({"name": "a", "url": "tcp://h:1", "send": "x"})", "t/0/4", table, read);
    REQUIRE(unknown);
    CHECK(unknown->find("[0].send: unknown option") != std::string::npos);
}

TEST_CASE("Mailbox: a giver waits until the loop applied its offer, or a newer one; close releases it", "[unit]") {
    vigil::checks::Mailbox<int> box;
    auto first = box.put(1);
    CHECK_FALSE(box.wait_applied(first, 10ms));
    auto second = box.put(2);  // replaces the first, not yet taken
    int applied = 0;
    std::thread loop([&] {
        std::this_thread::sleep_for(20ms);
        box.apply([&](int v) { applied = v; });
    });
    CHECK(box.wait_applied(first, 5s));  // the newer offer covers it
    loop.join();
    CHECK(applied == 2);
    CHECK(box.wait_applied(second, 0ms));
    box.apply([&](int) { FAIL("nothing was offered since"); });
    auto third = box.put(3);
    box.close();
    CHECK(box.wait_applied(third, 5s));  // the loop ended: nobody waits for it
}
