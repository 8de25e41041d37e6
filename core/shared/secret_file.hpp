// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace vigil::config {

/// Reads a `*_file` secret: the whole file, without its trailing newline(s). A relative path
/// resolves against `base_dir` (the config file's directory). nullopt with `error` on failure.
/// The content is never put into an error message.
std::optional<std::string> read_secret_file(const std::filesystem::path& base_dir, const std::string& path,
                                            std::string& error);

}  // namespace vigil::config
