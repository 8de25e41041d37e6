// SPDX-License-Identifier: Apache-2.0
// The agent's top level: load and validate everything, then run one pipeline until stopped.
#include "app/app.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "app/instantiate.hpp"
#include "app/pipeline_config.hpp"
#include "app/signals.hpp"
#include "loader/search_path.hpp"

namespace vigil::app {
namespace {

std::vector<std::filesystem::path> search_path(const Options& o, const PipelineFile* file) {
    loader::SearchPathInputs in;
    in.cli_dirs = o.plugin_dirs;
    if (const char* env = std::getenv("VIGIL_PLUGIN_PATH")) {
        in.env_value = env;
    }
    if (file != nullptr) {
        in.config_dirs = file->plugin_dirs;
    }
    in.executable = loader::self_executable();
    return loader::build_search_path(in);
}

int list_plugins(const Options& o) {
    loader::Registry registry(search_path(o, nullptr));
    for (const auto& dir : registry.search_path()) {
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".so") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::string error;
            const auto* p = registry.load_path(f, error);
            if (p == nullptr) {
                std::cerr << "warning: " << error << '\n';
                continue;
            }
            const auto& d = *p->descriptor;
            std::string commands;
            for (const PluginCommand* c = commands_of(d); c != nullptr && c->name != nullptr; ++c) {
                commands += fmt::format("{}agent {} {}", commands.empty() ? " (commands: " : "; ", c->name, c->usage);
            }
            std::cout << fmt::format("{:<16} {:<6} {:<8} {:<7} {}  {}{}\n", d.name, to_string(d.kind), d.version,
                                     to_string(d.stability), p->path.string(), d.description,
                                     commands.empty() ? "" : commands + ")");
        }
    }
    return kExitOk;
}

void print(const Diagnostics& diags) {
    auto text = diags.render();
    if (!text.empty()) {
        std::cerr << text << std::flush;
    }
}

void apply_logging(const Options& o, const PipelineFile* file, Diagnostics& diags) {
    auto level = file && file->log_level ? *file->log_level : LogLevel::Info;
    auto format = file && file->log_format ? *file->log_format : telemetry::LogFormat::Text;
    if (o.log_level) {
        if (auto l = telemetry::parse_level(*o.log_level)) {
            level = *l;
        } else {
            diags.error(
                fmt::format("--log-level: \"{}\" is not one of trace, debug, info, warn, error, off", *o.log_level));
        }
    }
    if (o.log_format) {
        if (auto f = telemetry::parse_format(*o.log_format)) {
            format = *f;
        } else {
            diags.error(fmt::format("--log-format: \"{}\" is not one of text, json", *o.log_format));
        }
    }
    telemetry::configure_logging(level, format);
}

// SIGHUP: re-read the file; apply what can change at run time, keep the rest and say so.
class Reloader {
  public:
    Reloader(const Options& o, loader::Registry& registry, const std::vector<SourceInstance>& sources,
             const PipelineFile& current)
        : options_(o), registry_(registry), sources_(sources), current_(current) {}

    void operator()() {
        Logger log;
        log.info("SIGHUP: reloading {}", options_.pipeline.string());
        Diagnostics diags;
        auto refuse = [&] {
            for (const auto& d : diags.entries()) {
                log.error("reload refused: {}", d.render());
            }
        };
        auto file = load_pipeline_file(options_.pipeline, diags);
        if (file) {
            bind_plugins(*file, registry_, diags);
        }
        if (!file || diags.has_errors()) {
            return refuse();
        }
        apply_logging(options_, file.get(), diags);
        if (file->sources.size() != current_.sources.size()) {
            log.warn("reload: the pipeline now has {} sources instead of {}; restart the agent to apply that",
                     file->sources.size(), current_.sources.size());
            return;
        }
        // Each source takes its new options on its own: one that refuses them keeps its old ones
        // and says why, the others still reload.
        for (const auto& running : sources_) {
            const Section* next = nullptr;
            for (const auto& s : file->sources) {
                if (s->instance == running.instance) {
                    next = s.get();
                }
            }
            if (next == nullptr || next->plugin != running.section->plugin) {
                log.warn("reload: source {} is gone or has another plugin; restart the agent to apply that",
                         running.instance);
            } else if (!running.source->supports_reload()) {
                log.warn("reload: {} cannot reload its options; restart the agent to apply changes", running.instance);
            } else if (Diagnostics refused; !running.source->reload(next->node, refused)) {
                for (const auto& d : refused.entries()) {
                    log.error("reload of {} refused: {}", running.instance, d.render());
                }
            } else {
                log.info("reload applied to {}; changes to sinks and core keys need a restart", running.instance);
            }
        }
    }

  private:
    const Options& options_;
    loader::Registry& registry_;
    const std::vector<SourceInstance>& sources_;
    const PipelineFile& current_;
};

// The pipeline file with the logging it asks for set up; nullptr, its errors printed, when it
// cannot be read at all.
std::unique_ptr<PipelineFile> load(const Options& o, Diagnostics& diags) {
    auto file = load_pipeline_file(o.pipeline, diags);
    apply_logging(o, file.get(), diags);
    if (!file) {
        print(diags);
    }
    return file;
}

int run_pipeline(const Options& o) {
    Diagnostics diags;
    auto file = load(o, diags);
    if (!file) {
        return kExitConfig;
    }
    // Declared first so it is destroyed last: plugin code must outlive every plugin object.
    loader::Registry registry(search_path(o, file.get()));
    bind_plugins(*file, registry, diags);
    Instances inst = instantiate(*file, host_name(), diags);
    for (const auto& s : inst.sources) {
        if (!diags.has_errors() && o.once && !s.source->supports_once()) {
            diags.error(fmt::format("--once: source plugin \"{}\" ({}) cannot run a single round",
                                    s.section->plugin->descriptor->name, s.instance));
        }
    }
    print(diags);
    if (diags.has_errors()) {
        return kExitConfig;
    }

    if (o.check_config) {
        std::cout << effective_yaml(*file) << std::flush;
        if (o.with_environment) {
            int failed = 0;
            auto check = [&](const std::string& name, Status s) {
                if (s.ok()) {
                    std::cerr << name << ": healthy\n";
                } else {
                    std::cerr << name << ": error: " << s.message() << '\n';
                    ++failed;
                }
            };
            for (auto& s : inst.sources) {
                check(s.instance, s.source->healthcheck());
            }
            for (auto& s : inst.sinks) {
                check(s.instance, s.sink->healthcheck());
            }
            if (failed > 0) {
                return kExitRuntime;
            }
        }
        std::cerr << o.pipeline.string() << ": configuration OK\n";
        return kExitOk;
    }

    // What a restart cannot fix stops the agent here, before anything runs.
    for (auto& s : inst.sinks) {
        if (auto st = s.sink->preflight(); !st.ok()) {
            std::cerr << st.message() << '\n';
            return kExitConfig;
        }
    }

    Logger log;
    telemetry::MetricsServer metrics;
    if (file->metrics_listen) {
        if (auto st = metrics.start(*file->metrics_listen); !st.ok()) {
            log.error("{}", st.message());
            return kExitRuntime;
        }
        log.info("serving /metrics and /healthz on {}:{}", file->metrics_listen->host, metrics.port());
    }
    pipeline::PipelineOptions po;
    po.name = file->name;
    po.max_in_flight = file->max_in_flight;
    po.drain_timeout = file->drain_timeout;
    po.dead_letter = file->dead_letter;
    po.buffer = file->buffer;
    po.once = o.once;
    std::atomic<bool> signalled{false};
    int code = kExitOk;
    {
        std::vector<pipeline::SourceSlot> sources;
        std::vector<std::string> names;
        for (auto& s : inst.sources) {
            sources.push_back({s.instance, s.source.get()});
            names.push_back(s.instance);
        }
        pipeline::Pipeline pipe(po, std::move(sources), std::move(inst.sinks));
        Reloader reload(o, registry, inst.sources, *file);
        SignalThread signals(
            [&] {
                signalled = true;
                metrics.set_healthy(false);
                log.info("stop requested: stopping the sources and draining");
                pipe.request_stop();
            },
            [&] {
                log.warn("second stop signal: exiting now without draining");
                std::_Exit(kExitRuntime);
            },
            [&] {
                reload();
                pipe.reopen_dead_letters();
            });
        log.info("pipeline {} starting: {} -> {} sink(s), agent {} (plugin ABI {}.{})", file->name,
                 fmt::join(names, ", "), file->sinks.size(), VIGIL_VERSION, kSdkAbiMajor, kSdkAbiMinor);
        auto result = pipe.run();
        if (!result.error.empty() || (!result.ok && !signalled.load())) {
            code = kExitRuntime;
        }
    }
    inst.sources.clear();
    return code;
}

}  // namespace

int run_command(const Options& o, const std::string& command, const std::vector<std::string>& args) {
    Diagnostics diags;
    auto file = load(o, diags);
    if (!file) {
        return kExitConfig;
    }
    loader::Registry registry(search_path(o, file.get()));
    bind_plugins(*file, registry, diags);
    if (diags.has_errors()) {
        print(diags);
        return kExitConfig;
    }
    // The sections whose plugin offers the command, sources first.
    std::vector<const Section*> sections;
    for (const auto& s : file->sources) {
        sections.push_back(s.get());
    }
    for (const auto& s : file->sinks) {
        sections.push_back(s.get());
    }
    std::vector<std::string> offered;
    for (const Section* s : sections) {
        for (const PluginCommand* c = commands_of(*s->plugin->descriptor); c != nullptr && c->name != nullptr; ++c) {
            if (command != c->name) {
                offered.push_back(fmt::format("{} ({})", c->name, s->plugin->descriptor->name));
                continue;
            }
            CommandContext ctx;
            ctx.args = args;
            for (const Section* other : sections) {
                if (other == s) {
                    continue;
                }
                for (const PluginCommand* o = commands_of(*other->plugin->descriptor);
                     o != nullptr && o->name != nullptr; ++o) {
                    if (command == o->name) {
                        ctx.peers.push_back({other->plugin->descriptor->name, other->instance, &other->node, o->run});
                    }
                }
            }
            ctx.agent = host_name();
            ctx.instance = s->instance;
            ctx.logger = make_context(*file, *s, ctx.agent).logger;
            ctx.out = &std::cout;
            ctx.err = &std::cerr;
            int code = kExitSoftware;
            try {
                code = c->run(ctx, s->node, diags);
            } catch (const std::exception& e) {
                diags.error(fmt::format("{}: command {} threw: {}", s->instance, command, e.what()));
                code = kExitSoftware;
            }
            print(diags);
            std::cout << std::flush;
            return diags.has_errors() && code == kExitOk ? kExitConfig : code;
        }
    }
    std::cerr << fmt::format("agent: error: no plugin of pipeline {} ({}) offers a command \"{}\"{}\n", file->name,
                             o.pipeline.string(), command,
                             offered.empty() ? std::string(" (its plugins offer none)")
                                             : fmt::format("; commands: {}", fmt::join(offered, ", ")));
    return kExitUsage;
}

int run(const Options& o) {
    if (o.list_plugins) {
        Diagnostics diags;
        apply_logging(o, nullptr, diags);
        return list_plugins(o);
    }
    return run_pipeline(o);
}

}  // namespace vigil::app
