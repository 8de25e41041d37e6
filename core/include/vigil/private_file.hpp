// SPDX-License-Identifier: Apache-2.0
// Files the agent writes for itself (dead letters, stdout_sink's path): they can hold what a site
// answered (body excerpts) and what Kafka carried, so they are the agent's alone.
#pragma once

#include <cstdio>
#include <string>

#include "vigil/visibility.hpp"

namespace vigil {

/// Opens `path` for appending, creating it with mode 0600 whatever the umask, and never through a
/// symbolic link (O_NOFOLLOW: a link planted where the file goes is refused, ELOOP). A file that
/// exists keeps its mode. nullptr with errno set on failure.
VIGIL_API std::FILE* open_private_append(const std::string& path);

}  // namespace vigil
