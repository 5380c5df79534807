// SHA-256 (FIPS 180-4) of bytes, files and folders: the fingerprints `mlt run` records for its
// path parameters, and the keys of the project cache.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace mltrack::projects {

// Incremental: Update any number of times, then Hex (once).
class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  std::array<uint8_t, 32> Digest();
  std::string Hex();  // 64 lowercase hex digits

 private:
  void Block(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes so far
};

std::string Sha256Hex(std::string_view bytes);

// The fingerprint of a file (the SHA-256 of its bytes) or of a folder: the SHA-256 of, for every
// regular file below it in byte order of its relative path ('/'-separated), the path, a NUL, the
// file's own SHA-256 hex and a newline; symbolic links inside the folder are recorded by their
// target text ("path\0-> target\n"), not followed, and fifos, sockets and devices are skipped (so
// a fingerprint never blocks). A link given as `path` itself is followed: its data is what a run
// reads. Throws Error(kInvalidParameterValue) "No file or folder at '<p>'" or "'<p>' is neither
// a file nor a folder", and Error(kIoError) "Cannot read '<p>': <reason>".
std::string FingerprintPath(const std::filesystem::path& path);

}  // namespace mltrack::projects
