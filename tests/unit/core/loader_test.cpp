// SPDX-License-Identifier: Apache-2.0
// Every refusal of the loader, each with a real .so built by the test suite.
#include <dlfcn.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "loader/plugin_file.hpp"
#include "loader/registry.hpp"
#include "loader/search_path.hpp"
#include "support.hpp"

using vigil::loader::Registry;
using vigil::test::TempDir;

namespace {
std::filesystem::path fixture(const std::string& name) { return vigil::test::loader_fixture_dir() / (name + ".so"); }
std::filesystem::path stdout_sink_so() {
    return vigil::test::agent_binary().parent_path().parent_path() / "plugins" / "stdout_sink.so";
}
std::string refusal(const std::filesystem::path& path) {
    Registry registry({});
    std::string error;
    CHECK(registry.load_path(path, error) == nullptr);
    return error;
}
}  // namespace

TEST_CASE("loader: a real plugin loads and describes itself", "[unit][loader]") {
    Registry registry({stdout_sink_so().parent_path()});
    std::string error;
    const auto* p = registry.get("stdout_sink", error);
    REQUIRE(p != nullptr);
    CHECK(error.empty());
    CHECK(p->name() == "stdout_sink");
    CHECK(p->descriptor->kind == vigil::PluginKind::Sink);
    CHECK(std::string(p->descriptor->version) == "1.0.0");
    CHECK(registry.get("stdout_sink", error) == p);  // loaded once
}

TEST_CASE("loader: a missing plugin names the search path", "[unit][loader]") {
    Registry registry({"/nonexistent/a", "/nonexistent/b"});
    std::string error;
    CHECK(registry.get("nope", error) == nullptr);
    CHECK(error == "plugin \"nope\" not found (no nope.so in /nonexistent/a:/nonexistent/b)");
}

TEST_CASE("loader: a shared object without the entry point is refused before any of its code runs", "[unit][loader]") {
    TempDir dir;
    auto mark = dir / "constructor-ran";
    ::setenv("VIGIL_TEST_CONSTRUCTOR_MARK", mark.c_str(), 1);
    auto path = fixture("not_a_plugin");
    CHECK(refusal(path) == path.string() + ": not a Vigil plugin (no vigil_plugin_v1 symbol)");
    CHECK_FALSE(std::filesystem::exists(mark));
    ::unsetenv("VIGIL_TEST_CONSTRUCTOR_MARK");
}

TEST_CASE("loader: a file that is not ELF is refused", "[unit][loader]") {
    TempDir dir;
    auto path = dir.write("text.so", "#!/bin/sh\necho hello\n");
    ::chmod(path.c_str(), 0644);
    CHECK(refusal(path) == path.string() + ": not a Vigil plugin (not an ELF shared object)");
}

TEST_CASE("loader: unresolved symbols are refused at load with an ldd hint", "[unit][loader]") {
    auto path = fixture("unresolved");
    auto error = refusal(path);
    CHECK(error.rfind(path.string() + ": cannot load: ", 0) == 0);
    CHECK(error.find("undefined symbol: vigil_test_symbol_nobody_defines") != std::string::npos);
    CHECK(error.find("check its dependencies with ldd(1)") != std::string::npos);
}

TEST_CASE("loader: a plugin built for another ABI major is refused from its header", "[unit][loader]") {
    auto path = fixture("wrong_abi");
    CHECK(refusal(path) == path.string() + ": built for plugin ABI 8, this agent provides ABI 7");
}

TEST_CASE("loader: a plugin with another build fingerprint is refused", "[unit][loader]") {
    auto path = fixture("wrong_fingerprint");
    CHECK(refusal(path) == path.string() + ": built with gcc-99/c++202002L/cxx11abi=1/boost=0, agent is " +
                               VIGIL_BUILD_FINGERPRINT + " (compiler, boost, fmt differ); rebuild against vigil-dev " +
                               VIGIL_VERSION);
}

TEST_CASE("loader: the fingerprint names only what crosses the plugin boundary", "[unit][loader]") {
    std::string agent = VIGIL_BUILD_FINGERPRINT;
    // RapidJSON, yaml-cpp and spdlog types never reach a plugin: they are not in it.
    CHECK(agent.find("rapidjson") == std::string::npos);
    CHECK(agent.find("yaml-cpp") == std::string::npos);
    CHECK(agent.find("spdlog") == std::string::npos);
    CHECK(vigil::loader::fingerprint_mismatches(agent, agent).empty());
    // Each component that does cross refuses on its own: the agent's, with piece `index` replaced.
    auto with = [&](std::size_t index, const std::string& piece) {
        std::vector<std::string> pieces;
        for (std::size_t start = 0; start <= agent.size();) {
            auto end = std::min(agent.find('/', start), agent.size());
            pieces.push_back(agent.substr(start, end - start));
            start = end + 1;
        }
        REQUIRE(pieces.size() == 5);
        pieces.at(index) = piece;
        return fmt::format("{}", fmt::join(pieces, "/"));
    };
    using V = std::vector<std::string>;
    using vigil::loader::fingerprint_mismatches;
    CHECK(fingerprint_mismatches(with(0, "clang-15"), agent) == V{"compiler"});
    CHECK(fingerprint_mismatches(with(1, "c++201703L"), agent) == V{"c++"});
    CHECK(fingerprint_mismatches(with(2, "cxx11abi=0"), agent) == V{"cxx11abi"});
    CHECK(fingerprint_mismatches(with(3, "boost=108300"), agent) == V{"boost"});
    CHECK(fingerprint_mismatches(with(4, "fmt=100100"), agent) == V{"fmt"});
    CHECK(fingerprint_mismatches("", agent) == V{"compiler", "c++", "cxx11abi", "boost", "fmt"});
    // Older plugins' extra components, at any version, are ignored.
    CHECK(fingerprint_mismatches(agent + "/yaml-cpp=0.6.0/spdlog=1.5/rapidjson=1.0.0", agent).empty());
}

TEST_CASE("loader: a fingerprint naming more components (as ABI 1.4 wrote it) loads; another fmt is refused",
          "[unit][loader]") {
    Registry registry({});
    std::string error;
    CHECK(registry.load_path(fixture("old_fingerprint"), error) != nullptr);
    CHECK(error.empty());
    auto path = fixture("other_fmt");
    auto refused = refusal(path);
    CHECK(refused.find(path.string() + ": built with ") == 0);
    CHECK(refused.find("(fmt differs); rebuild against vigil-dev") != std::string::npos);
}

TEST_CASE("loader: a plugin whose name is not its file name is refused", "[unit][loader]") {
    auto path = fixture("misnamed");
    CHECK(refusal(path) == path.string() + ": declares name \"something_else\" but the file is named \"misnamed.so\"");
}

TEST_CASE("loader: a group- or world-writable plugin is refused", "[unit][loader]") {
    TempDir dir;
    auto path = dir / "stdout_sink.so";
    std::filesystem::copy_file(stdout_sink_so(), path);
    ::chmod(path.c_str(), 0666);
    CHECK(refusal(path) == "refusing to load " + path.string() + ": mode 0666 is group/world-writable");
    ::chmod(path.c_str(), 0664);
    CHECK(refusal(path) == "refusing to load " + path.string() + ": mode 0664 is group/world-writable");
    ::chmod(path.c_str(), 0755);
    Registry registry({});
    std::string error;
    CHECK(registry.load_path(path, error) != nullptr);
}

TEST_CASE("loader: a symbolic link, or a directory others may write, is refused", "[unit][loader]") {
    TempDir dir;
    auto real = dir / "real";
    std::filesystem::create_directory(real);
    std::filesystem::copy_file(stdout_sink_so(), real / "stdout_sink.so");
    auto links = dir / "links";
    std::filesystem::create_directory(links);
    std::filesystem::create_symlink(real / "stdout_sink.so", links / "stdout_sink.so");
    CHECK(refusal(links / "stdout_sink.so") ==
          "refusing to load " + (links / "stdout_sink.so").string() + ": a symbolic link (name the file itself)");
    // The plugin's own directory, writable by the group: anyone in it could swap the file.
    ::chmod(real.c_str(), 0775);
    CHECK(refusal(real / "stdout_sink.so") == "refusing to load " + (real / "stdout_sink.so").string() +
                                                  ": directory " + real.string() +
                                                  " is group/world-writable (mode 0775)");
    // A parent writable by all: it could rename the plugin directory away and put another there.
    ::chmod(real.c_str(), 0755);
    ::chmod(dir.path().c_str(), 0777);
    CHECK(refusal(real / "stdout_sink.so") == "refusing to load " + (real / "stdout_sink.so").string() +
                                                  ": directory " + dir.path().string() +
                                                  " is group/world-writable (mode 0777)");
    // Sticky (as /tmp is): only an entry's owner may rename it, so that parent is safe.
    ::chmod(dir.path().c_str(), 01777);
    Registry registry({});
    std::string error;
    CHECK(registry.load_path(real / "stdout_sink.so", error) != nullptr);
    INFO(error);
    ::chmod(dir.path().c_str(), 0700);
}

TEST_CASE("loader: the file loaded is the descriptor that was checked, not the name again", "[unit][loader]") {
    TempDir dir;
    std::filesystem::copy_file(stdout_sink_so(), dir / "stdout_sink.so");
    Registry registry({});
    std::string error;
    const auto* plugin = registry.load_path(dir / "stdout_sink.so", error);
    REQUIRE(plugin != nullptr);
    Dl_info info{};
    REQUIRE(::dladdr(plugin->descriptor, &info) != 0);
    CHECK_THAT(std::string(info.dli_fname), Catch::StartsWith("/proc/self/fd/"));
}

TEST_CASE("loader: a second plugin with a name already loaded is refused", "[unit][loader]") {
    TempDir a, b;
    std::filesystem::copy_file(stdout_sink_so(), a / "stdout_sink.so");
    std::filesystem::copy_file(stdout_sink_so(), b / "stdout_sink.so");
    Registry registry({});
    std::string error;
    REQUIRE(registry.load_path(a / "stdout_sink.so", error) != nullptr);
    CHECK(registry.load_path(b / "stdout_sink.so", error) == nullptr);
    CHECK(error == (b / "stdout_sink.so").string() + ": plugin \"stdout_sink\" already loaded from " +
                       (a / "stdout_sink.so").string());
}

TEST_CASE("loader: the search path keeps the documented order without duplicates", "[unit][loader]") {
    vigil::loader::SearchPathInputs in;
    in.cli_dirs = {"/cli1", "/cli2"};
    in.env_value = "/env1:/env2:/cli1";
    in.config_dirs = {"/conf"};
    in.executable = "/opt/vigil/bin/agent";
    auto dirs = vigil::loader::build_search_path(in);
    std::vector<std::filesystem::path> want = {
        "/cli1", "/cli2", "/env1", "/env2", "/conf", "/opt/vigil/lib/vigil/plugins", VIGIL_INSTALL_PLUGIN_DIR_FOR_TEST};
    CHECK(dirs == want);
}
