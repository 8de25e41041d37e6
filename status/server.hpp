// SPDX-License-Identifier: Apache-2.0
// The HTTP side: libmicrohttpd with a thread pool, GET and HEAD only, the routes of README.md.
#pragma once

#include <microhttpd.h>

#include <functional>
#include <string>

#include "render.hpp"
#include "store.hpp"
#include "vigil/status.hpp"

namespace vigil::status_page {

class Server {
  public:
    Server(Store& store, View view) : store_(store), view_(std::move(view)) {}
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Listens on host:port (a literal address; port 0 picks one); `threads` answer requests.
    /// `per_ip`: connections one client address may hold (0: no limit).
    Status start(const std::string& host, unsigned short port, unsigned threads, unsigned per_ip = 16);
    unsigned short port() const { return port_; }

    struct Answer {
        unsigned status = 200;
        std::string body;
        const char* type = "text/html; charset=utf-8";
    };
    /// The answer to GET `path`; `arg` reads a query parameter (nullptr when absent).
    Answer answer(const std::string& path, const std::function<const char*(const char*)>& arg);

  private:
    static MHD_Result handle(void* self, MHD_Connection* c, const char* url, const char* method, const char*,
                             const char*, size_t*, void**);

    Store& store_;
    View view_;
    MHD_Daemon* daemon_ = nullptr;
    unsigned short port_ = 0;
};

}  // namespace vigil::status_page
