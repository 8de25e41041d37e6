// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.hpp"

#include <iostream>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "app/app.hpp"
#include "cli/migrate_command.hpp"
#include "vigil/record.hpp"
#include "vigil/version.hpp"

namespace vigil::cli {

namespace {

// `agent COMMAND ARGS... --pipeline FILE [--plugin-dir DIR] [--log-level L]`: a plugin's command.
int run_plugin_command(int argc, char** argv) {
    std::string command = argv[1];
    CLI::App cli{"Runs a command that a plugin of the pipeline offers (see its README).", "agent " + command};
    app::Options o;
    std::vector<std::string> args;
    std::string level;
    cli.add_option("-p,--pipeline", o.pipeline, "The pipeline file whose plugin offers the command")
        ->type_name("FILE")
        ->required();
    cli.add_option("--plugin-dir", o.plugin_dirs, "Search DIR for plugins first (repeatable)")->type_name("DIR");
    auto* lvl = cli.add_option("--log-level", level, "trace, debug, info, warn, error or off")->type_name("LEVEL");
    cli.add_option("args", args, "The command's arguments (put -- before one that starts with -)");
    // Options the agent does not know (`--allow-secrets`) are the command's: it refuses what it
    // does not know either.
    cli.allow_extras();
    try {
        cli.parse(argc - 1, argv + 1);
        for (auto& extra : cli.remaining()) {
            args.push_back(std::move(extra));
        }
    } catch (const CLI::CallForHelp& e) {
        return cli.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "agent " << command << ": error: " << e.what() << " (see agent " << command << " --help)\n";
        return app::kExitUsage;
    }
    if (lvl->count() > 0) {
        o.log_level = level;
    }
    try {
        return app::run_command(o, command, args);
    } catch (const std::exception& e) {
        std::cerr << "agent: internal error: " << e.what() << '\n';
        return app::kExitSoftware;
    }
}

}  // namespace

int run(int argc, char** argv) {
    // A first word that is not an option nor one of the agent's own subcommands names a command
    // of a plugin in the pipeline.
    if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "migrate" &&
        std::string_view(argv[1]) != "schema" && std::string_view(argv[1]) != "help") {
        return run_plugin_command(argc, argv);
    }
    CLI::App cli{
        "Vigil: a website-monitoring agent. Runs one pipeline (a source plugin feeding "
        "sink plugins) described by a YAML file.",
        "agent"};
    cli.footer(
        "Exit codes: 0 ok; 1 runtime failure; 64 bad command line; 70 internal error; "
        "78 bad configuration (systemd: RestartPreventExitStatus=78). Plugins may offer commands of their own: "
        "agent COMMAND ARGS... --pipeline FILE (--list-plugins shows them).");
    app::Options o;
    std::string level, format;
    auto* pipeline = cli.add_option("-p,--pipeline", o.pipeline, "The pipeline file (YAML)")->type_name("FILE");
    cli.add_flag("--check-config", o.check_config,
                 "Validate the pipeline and its plugins' options, print the effective config "
                 "(secrets redacted), connect to nothing, exit");
    cli.add_flag("--with-environment", o.with_environment,
                 "With --check-config: also run each plugin's healthcheck against real services");
    cli.add_flag("--list-plugins", o.list_plugins,
                 "List the plugins found on the search path (name, kind, version, stability, path)");
    cli.add_option("--plugin-dir", o.plugin_dirs, "Search DIR for plugins first (repeatable)")->type_name("DIR");
    auto* lvl = cli.add_option("--log-level", level, "trace, debug, info, warn, error or off")->type_name("LEVEL");
    auto* fmt_opt = cli.add_option("--log-format", format, "text or json")->type_name("FORMAT");
    cli.add_flag("--once", o.once,
                 "Run one round of the source (each site checked once), drain, exit; non-zero "
                 "if anything was not delivered");
    MigrateOptions mo;
    auto* migrate =
        cli.add_subcommand("migrate", "Apply the SQL migrations (dbmate's format) to a PostgreSQL database");
    auto* url_option = migrate
                           ->add_option("--database-url", mo.database_url,
                                        "libpq URL of the database (default: $DATABASE_URL); visible in ps, so "
                                        "prefer DATABASE_URL or --database-url-file")
                           ->type_name("URL");
    migrate
        ->add_option("--database-url-file", mo.database_url_file,
                     "File holding the libpq URL (for example a systemd credential)")
        ->type_name("FILE")
        ->excludes(url_option);
    migrate->add_option("--dir", mo.dir, "Directory of migrations (default: the installed ones)")->type_name("DIR");
    auto* status = migrate->add_flag("--status", mo.status, "List the migrations and whether each is applied");
    migrate->add_flag("--down", mo.down, "Roll back the most recently applied migration")->excludes(status);
    auto* schema = cli.add_subcommand(
        "schema", "Print the check record's JSON Schema (draft-07), as schemas/check-record.json holds it");
    std::string schema_kind;
    schema
        ->add_option("--kind", schema_kind,
                     "One kind's own schema (http, tcp, tls, dns, icmp), as schemas/check-record-KIND.json holds it")
        ->type_name("KIND")
        ->check(CLI::IsMember({"http", "tcp", "tls", "dns", "icmp"}));
    bool version = false;
    cli.add_flag("-V,--version", version, "Print the version and plugin ABI, then exit");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return cli.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "agent: error: " << e.what() << " (see agent --help)\n";
        return app::kExitUsage;
    }
    if (migrate->parsed()) {
        return run_migrate(mo);
    }
    if (schema->parsed()) {
        std::cout << (schema_kind.empty() ? record_json_schema() : *record_json_schema(schema_kind)) << std::flush;
        return app::kExitOk;
    }
    if (version) {
        std::cout << fmt::format("vigil agent {}\nplugin ABI {}.{}\nbuild {}\n", VIGIL_VERSION, kSdkAbiMajor,
                                 kSdkAbiMinor, VIGIL_BUILD_FINGERPRINT);
        return app::kExitOk;
    }
    if (!o.list_plugins && pipeline->count() == 0) {
        std::cerr << "agent: error: --pipeline FILE is required (or --list-plugins, --version; "
                     "see agent --help)\n";
        return app::kExitUsage;
    }
    if (o.with_environment && !o.check_config) {
        std::cerr << "agent: error: --with-environment goes with --check-config\n";
        return app::kExitUsage;
    }
    if (lvl->count() > 0) {
        o.log_level = level;
    }
    if (fmt_opt->count() > 0) {
        o.log_format = format;
    }
    try {
        return app::run(o);
    } catch (const std::exception& e) {
        std::cerr << "agent: internal error: " << e.what() << '\n';
        return app::kExitSoftware;
    }
}

}  // namespace vigil::cli
