// SPDX-License-Identifier: Apache-2.0
// The calls whose failure a worker must survive but nothing outside can provoke, behind one
// table that tests replace (as Envoy puts its system calls behind an interface).
#pragma once

#include <curl/curl.h>
#include <sys/epoll.h>

namespace vigil::plugins::http_check {

struct SystemCalls {
    CURLMcode (*add_handle)(CURLM* multi, CURL* easy) = curl_multi_add_handle;
    int (*epoll_add)(int epoll, int fd, epoll_event* event) = [](int epoll, int fd, epoll_event* event) {
        return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, event);
    };
};

/// The table the workers call through (tests swap entries and put them back).
inline SystemCalls& system_calls() {
    static SystemCalls calls;
    return calls;
}

}  // namespace vigil::plugins::http_check
