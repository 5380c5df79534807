#include "projects/sha256.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
constexpr std::array<uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the
// first 8 primes.
constexpr std::array<uint32_t, 8> kInitialState = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                                   0x1f83d9ab, 0x5be0cd19};

constexpr size_t kBlockBytes = 64;
constexpr size_t kReadChunk = 1 << 16;

constexpr uint32_t RotateRight(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

std::string HexOf(const std::array<uint8_t, 32>& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(64, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return hex;
}

[[noreturn]] void ThrowUnreadable(const fs::path& path, int err) {
  throw Error(ErrorCode::kIoError,
              fmt::format("Cannot read '{}': {}", path.string(), std::strerror(err)));
}

// The SHA-256 hex of a regular file's bytes. Without `follow_link` a final symbolic link is
// refused (O_NOFOLLOW), not read: a folder's file swapped for a link after the walk must not
// lead the fingerprint outside the folder.
std::string FileDigestHex(const fs::path& path, bool follow_link) {
  int flags = O_RDONLY | O_CLOEXEC | (follow_link ? 0 : O_NOFOLLOW);
  Fd fd(::open(path.c_str(), flags));
  if (fd.get() < 0) ThrowUnreadable(path, errno);
  Sha256 hash;
  std::vector<char> chunk(kReadChunk);
  for (;;) {
    ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowUnreadable(path, errno);
    }
    if (n == 0) break;
    hash.Update(chunk.data(), static_cast<size_t>(n));
  }
  return hash.Hex();
}

// One line of a folder's manifest per regular file or symbolic link below `root`, in byte
// order of the relative paths. Other kinds of entries (fifos, sockets, devices) are skipped:
// reading them could block or never end, and they hold no data a run could have read back.
std::string FolderDigestHex(const fs::path& root) {
  struct Entry {
    std::string relative;  // '/'-separated
    fs::path path;
    bool is_link;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  // Without follow_directory_symlink: a link to a folder is an entry, not a way in.
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) ThrowUnreadable(root, ec.value());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    fs::file_status status = it->symlink_status(ec);
    if (ec) ThrowUnreadable(it->path(), ec.value());
    bool is_link = fs::is_symlink(status);
    if (!is_link && !fs::is_regular_file(status)) continue;
    entries.push_back({it->path().lexically_relative(root).generic_string(), it->path(), is_link});
  }
  if (ec) ThrowUnreadable(root, ec.value());
  // std::string compares as unsigned char: byte order, independent of the locale.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.relative < b.relative; });

  Sha256 manifest;
  for (const Entry& entry : entries) {
    manifest.Update(entry.relative);
    manifest.Update(std::string_view("\0", 1));
    if (entry.is_link) {
      fs::path target = fs::read_symlink(entry.path, ec);
      if (ec) ThrowUnreadable(entry.path, ec.value());
      // "-> " cannot begin a hex digest, so a link never reads as a file with the same line.
      manifest.Update("-> ");
      manifest.Update(target.native());
    } else {
      manifest.Update(FileDigestHex(entry.path, /*follow_link=*/false));
    }
    manifest.Update("\n");
  }
  return manifest.Hex();
}

}  // namespace

Sha256::Sha256() : state_(kInitialState), buffer_{} {}

void Sha256::Block(const uint8_t* block) {
  // §6.2.2: the message schedule, then 64 rounds over the working variables a..h.
  std::array<uint32_t, 64> w;
  for (int t = 0; t < 16; ++t) {
    w[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) |
           (uint32_t{block[4 * t + 2]} << 8) | uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) {
    uint32_t s0 = RotateRight(w[t - 15], 7) ^ RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = RotateRight(w[t - 2], 17) ^ RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = s1 + w[t - 7] + s0 + w[t - 16];
  }
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (int t = 0; t < 64; ++t) {
    uint32_t big_sigma1 = RotateRight(e, 6) ^ RotateRight(e, 11) ^ RotateRight(e, 25);
    uint32_t choose = (e & f) ^ (~e & g);
    uint32_t t1 = h + big_sigma1 + choose + kRoundConstants[t] + w[t];
    uint32_t big_sigma0 = RotateRight(a, 2) ^ RotateRight(a, 13) ^ RotateRight(a, 22);
    uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = big_sigma0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::Update(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  length_ += size;
  if (buffered_ > 0) {
    size_t take = std::min(size, kBlockBytes - buffered_);
    std::memcpy(buffer_.data() + buffered_, bytes, take);
    buffered_ += take;
    bytes += take;
    size -= take;
    if (buffered_ < kBlockBytes) return;
    Block(buffer_.data());
    buffered_ = 0;
  }
  for (; size >= kBlockBytes; bytes += kBlockBytes, size -= kBlockBytes) Block(bytes);
  if (size > 0) {
    std::memcpy(buffer_.data(), bytes, size);
    buffered_ = size;
  }
}

std::array<uint8_t, 32> Sha256::Digest() {
  // §5.1.1: a 1 bit, zeros up to 56 bytes mod 64, then the message length in bits, big-endian.
  uint64_t bit_length = length_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > kBlockBytes - 8) {
    std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), 0);
    Block(buffer_.data());
    buffered_ = 0;
  }
  std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end() - 8, 0);
  for (int i = 0; i < 8; ++i) {
    buffer_[kBlockBytes - 1 - i] = static_cast<uint8_t>(bit_length >> (8 * i));
  }
  Block(buffer_.data());
  buffered_ = 0;

  std::array<uint8_t, 32> digest;
  for (size_t i = 0; i < state_.size(); ++i) {
    for (int j = 0; j < 4; ++j) digest[4 * i + j] = static_cast<uint8_t>(state_[i] >> (24 - 8 * j));
  }
  return digest;
}

std::string Sha256::Hex() { return HexOf(Digest()); }

std::string Sha256Hex(std::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes);
  return hash.Hex();
}

std::string FingerprintPath(const fs::path& path) {
  // The path itself is followed when it is a link: it is what the user named, and its data is
  // what the run reads. Links below a folder are not (see FolderDigestHex).
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("No file or folder at '{}'", path.string()));
  }
  if (ec) ThrowUnreadable(path, ec.value());
  if (fs::is_directory(status)) return FolderDigestHex(path);
  if (fs::is_regular_file(status)) return FileDigestHex(path, /*follow_link=*/true);
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("'{}' is neither a file nor a folder", path.string()));
}

}  // namespace mltrack::projects
