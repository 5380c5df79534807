// Test-only: writes tar archives with arbitrary entries (traversal paths, links, devices, huge
// files), which ExportBundle would never produce.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mltrack::models::testing {

struct TarEntry {
  enum class Kind { kFile, kDir, kSymlink, kHardlink, kCharDevice, kFifo };
  std::string path;
  Kind kind = Kind::kFile;
  std::string content;      // kFile
  uint64_t zero_bytes = 0;  // kFile: this many zero bytes after `content`, streamed
  std::string link;         // kSymlink, kHardlink: the target
};

// A tar archive, gzip-compressed unless `gzip` is false.
void WriteTar(const std::filesystem::path& out, const std::vector<TarEntry>& entries,
              bool gzip = true);

}  // namespace mltrack::models::testing
