// SPDX-License-Identifier: Apache-2.0
// The process metrics every Prometheus client library exports (client_golang's process
// collector), read from /proc at each scrape so they cost nothing between scrapes.
#pragma once

#include <string>

namespace vigil::telemetry {

/// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_open_fds, process_max_fds and process_start_time_seconds in text format 0.0.4.
/// A value /proc does not give (another kernel, a sandbox) is left out, never made up.
std::string render_process_metrics();

}  // namespace vigil::telemetry
