// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "vigil/redact.hpp"

using vigil::conninfo_secrets;
using vigil::redact_url;
using vigil::scrub;
using vigil::scrub_conninfo;

TEST_CASE("redact_url: the password and secret query values go, the rest of the URL stays", "[unit][redact]") {
    CHECK(redact_url("https://shop.example/health?x=1") == "https://shop.example/health?x=1");
    CHECK(redact_url("https://ops:hunter2@shop.example/") == "https://ops:***@shop.example/");
    CHECK(redact_url("https://ops@shop.example") == "https://ops@shop.example");
    CHECK(redact_url("https://a:b@c@shop.example:8443/p") == "https://a:***@shop.example:8443/p");
    CHECK(redact_url("https://shop.example/p?api_key=K1&page=2&access_token=T2#top") ==
          "https://shop.example/p?api_key=***&page=2&access_token=***#top");
    CHECK(redact_url("https://shop.example/?X-Amz-Signature=abc&sig=d&password=e&Token=f") ==
          "https://shop.example/?X-Amz-Signature=***&sig=***&password=***&Token=***");
    CHECK(redact_url("not a url") == "not a url");
    // The '@' of a path is not user info.
    CHECK(redact_url("https://shop.example/users/@me") == "https://shop.example/users/@me");
}

TEST_CASE("conninfo_secrets: the password of either form, raw and decoded, even unparsable", "[unit][redact]") {
    CHECK(conninfo_secrets("postgresql://vigil:s3cr%zzet@127.0.0.1:1/db") == std::vector<std::string>{"s3cr%zzet"});
    CHECK(conninfo_secrets("postgres://vigil:p%40ss@h/db") == std::vector<std::string>{"p%40ss", "p@ss"});
    CHECK(conninfo_secrets("postgresql://h/db?user=u&password=pw1&sslpassword=pw2") ==
          std::vector<std::string>{"pw1", "pw2"});
    CHECK(conninfo_secrets("postgresql://u@h/db").empty());
    auto kv = conninfo_secrets("host=h password='it''s x' user=u");
    CHECK(std::find(kv.begin(), kv.end(), "it") != kv.end());
    auto quoted = conninfo_secrets("host=h password='a b\\'c' dbname=x");
    CHECK(std::find(quoted.begin(), quoted.end(), "a b'c") != quoted.end());
    CHECK(conninfo_secrets("host=h password=plain dbname=x") == std::vector<std::string>{"plain"});
}

TEST_CASE("scrub: secrets, quoted pieces of them and URLs in a message are redacted", "[unit][redact]") {
    CHECK(scrub("bad token: \"s3cr%zzet\"", {"s3cr%zzet"}) == "bad token: \"***\"");
    CHECK(scrub("bad token: \"%zz\" near", {"s3cr%zzet"}) == "bad token: \"***\" near");
    CHECK(scrub("missing \"=\" after \"host\"", {"s3cr%zzet"}) == "missing \"=\" after \"host\"");
    CHECK(scrub("no secret here", {}) == "no secret here");
    CHECK(scrub("pw hunter2 and hunter2", {"hunter2"}) == "pw *** and ***");
    // libpq's own words for the example.
    auto url = "postgresql://vigil:s3cr%zzet@127.0.0.1:1/db";
    CHECK(scrub_conninfo("invalid percent-encoded token: \"s3cr%zzet\"", url) ==
          "invalid percent-encoded token: \"***\"");
    CHECK(scrub_conninfo("could not parse postgresql://vigil:x@h/db?password=y",
                         "postgresql://vigil:x@h/db?password=y") ==
          "could not parse postgresql://vigil:***@h/db?password=***");
}
