// SPDX-License-Identifier: Apache-2.0
#include "telemetry/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/core.h>

namespace vigil::telemetry {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help, double value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

// Field 22 of /proc/self/stat (starttime, clock ticks after boot) plus the boot time.
std::optional<double> start_time_seconds() {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return std::nullopt;
    }
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream rest(line.substr(close + 1));
    std::string field;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 22) {
            std::from_chars(field.data(), field.data() + field.size(), ticks);
        }
    }
    std::ifstream proc_stat("/proc/stat");
    std::string key;
    double boot = -1;
    while (proc_stat >> key) {
        if (key == "btime") {
            proc_stat >> boot;
            break;
        }
        std::getline(proc_stat, line);
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (boot < 0 || hz <= 0 || ticks == 0) {
        return std::nullopt;
    }
    return boot + static_cast<double>(ticks) / static_cast<double>(hz);
}

}  // namespace

std::string render_process_metrics() {
    std::string out;
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) == 0) {
        double cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                     static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
        family(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
    }
    std::error_code ec;
    std::size_t fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
        ++fds;
    }
    if (!ec) {
        // Less the descriptor the iteration itself held open.
        family(out, "process_open_fds", "gauge", "Number of open file descriptors.",
               static_cast<double>(fds > 0 ? fds - 1 : 0));
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
               static_cast<double>(limit.rlim_cur));
    }
    std::ifstream statm("/proc/self/statm");
    unsigned long long pages_virtual = 0, pages_resident = 0;
    if (statm >> pages_virtual >> pages_resident) {
        auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
        family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
               static_cast<double>(pages_resident) * page);
        family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
               static_cast<double>(pages_virtual) * page);
    }
    if (auto start = start_time_seconds()) {
        family(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
               *start);
    }
    return out;
}

}  // namespace vigil::telemetry
