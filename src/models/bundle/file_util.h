// File helpers shared by the bundle code and the code that fetches bundles.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace mltrack::models {

// Writes `bytes` to `path` with an AtomicFileWriter (common/atomic_file.h): `path` is its old self
// or the complete new content, never a prefix. Throws Error(kIoError) "Cannot write '<path>': ...";
// no temporary file is left behind on failure.
void WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes);

// The whole file. Throws Error(kResourceDoesNotExist) "No such file: '<path>'" when it does not
// exist, Error(kIoError) when it cannot be read.
std::string ReadWholeFile(const std::filesystem::path& path);

}  // namespace mltrack::models
