// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <cstdlib>

#include "pg_url.hpp"
#include "plugin_config.hpp"

namespace {
const vigil::OptionSpec kUrlOnly[] = {{.key = "url", .type = vigil::OptionType::Secret}, {}};

std::string diagnostics(const std::string& yaml, vigil::Secret* out = nullptr) {
    auto s = vigil::test::check_section("plugin: x\n" + yaml, kUrlOnly, vigil::PluginKind::Sink);
    auto url = vigil::pg::connection_url(s->node, s->diags);
    if (out != nullptr) {
        *out = url;
    }
    return s->diags.render();
}
}  // namespace

TEST_CASE("pg url: a name is quoted as an identifier, schema-qualified names part by part", "[unit]") {
    using vigil::pg::quote_identifier;
    CHECK(quote_identifier("metrics") == "\"metrics\"");
    CHECK(quote_identifier("ops.metrics") == "\"ops\".\"metrics\"");
    CHECK(quote_identifier("we\"ird") == "\"we\"\"ird\"");
}

TEST_CASE("pg url: a remote server without verify-full is warned about; loopback and verify-full are not", "[unit]") {
    ::unsetenv("PGSSLMODE");
    CHECK_THAT(diagnostics("url: \"postgresql://u@db.example.net/v\"\n"),
               Catch::Contains("warning: url: sslmode=prefer (libpq's default) falls back to an unencrypted "
                               "connection"));
    CHECK_THAT(diagnostics("url: \"postgresql://u@db.example.net/v?sslmode=require\"\n"),
               Catch::Contains("sslmode=require encrypts but checks no certificate"));
    CHECK(diagnostics("url: \"postgresql://u@db.example.net/v?sslmode=verify-full\"\n").empty());
    CHECK(diagnostics("url: \"postgresql://u@127.0.0.1/v\"\n").empty());
}

TEST_CASE("pg url: DATABASE_URL is the default; neither is an error naming both", "[unit]") {
    ::setenv("DATABASE_URL", "postgresql://u@127.0.0.1/from_env", 1);
    vigil::Secret url;
    CHECK(diagnostics("", &url).empty());
    CHECK(url.reveal() == "postgresql://u@127.0.0.1/from_env");
    ::unsetenv("DATABASE_URL");
    CHECK_THAT(diagnostics(""), Catch::Contains("no database: set url (or url_file), or DATABASE_URL"));
}
