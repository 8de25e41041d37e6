// SPDX-License-Identifier: Apache-2.0
#include "vigil/private_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace vigil {

std::FILE* open_private_append(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return nullptr;
    }
    std::FILE* f = ::fdopen(fd, "a");
    if (f == nullptr) {
        int saved = errno;
        ::close(fd);
        errno = saved;
    }
    return f;
}

}  // namespace vigil
