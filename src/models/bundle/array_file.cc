#include "models/bundle/array_file.h"

#include <sys/mman.h>

#include <array>
#include <bit>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "models/bundle/file_util.h"
#include "mltrack/error.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;

// The payload is the in-memory bytes of the values; a big-endian port would swap here.
static_assert(std::endian::native == std::endian::little, "array files assume a little-endian host");

constexpr std::string_view kMagic = "MLTA";

template <typename T> constexpr ArrayDType kDTypeOf = ArrayDType::kFloat32;
template <> constexpr ArrayDType kDTypeOf<double> = ArrayDType::kFloat64;
template <> constexpr ArrayDType kDTypeOf<int32_t> = ArrayDType::kInt32;
template <> constexpr ArrayDType kDTypeOf<int64_t> = ArrayDType::kInt64;

// Slice-by-8 tables: kCrcTables[0] is the classic byte table; kCrcTables[k][b] is the CRC of
// byte b followed by k zero bytes, so that eight bytes are folded in per step.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
  }
  return t;
}
constexpr CrcTables kCrcTables = MakeCrcTables();

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

std::span<const unsigned char> Bytes(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

[[noreturn]] void Corrupt(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

// Product of the shape, or nullopt on overflow.
std::optional<uint64_t> Count(std::span<const uint64_t> shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (d != 0 && n > UINT64_MAX / d) return std::nullopt;
    n *= d;
  }
  return n;
}

template <typename T>
void Write(const fs::path& path, std::span<const uint64_t> shape, std::span<const T> values) {
  if (shape.size() > kMaxArrayRank) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot write '{}': rank {} is above the limit of {}", path.string(),
                            shape.size(), kMaxArrayRank));
  }
  auto count = Count(shape);
  if (!count || *count != values.size()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot write '{}': the shape holds {} values, {} were given",
                            path.string(), count ? fmt::format("{}", *count) : "too many",
                            values.size()));
  }
  std::string_view payload(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  std::string bytes;
  bytes += kMagic;
  PutU32(bytes, kArrayFormatVersion);
  PutU32(bytes, static_cast<uint32_t>(kDTypeOf<T>));
  PutU32(bytes, static_cast<uint32_t>(shape.size()));
  for (uint64_t d : shape) PutU64(bytes, d);
  PutU64(bytes, payload.size());
  PutU32(bytes, Crc32(Bytes(payload)));
  PutU32(bytes, Crc32(Bytes(bytes)));
  AtomicFileWriter writer(path, fmt::format("Cannot write '{}'", path.string()));
  writer.Write(bytes.data(), bytes.size());
  writer.Write(payload.data(), payload.size());
  writer.Commit();
}

// Large payloads (factor matrices, forests) are fresh allocations the kernel maps a page at a
// time; on virtual machines each 4 KiB fault is expensive. Asking for transparent huge pages
// (as numpy does for large arrays) before the memory is first touched cuts the faults 512-fold.
// Advisory only: ignored where THP is off.
void AdviseHugePages(void* data, size_t size) {
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  if (size < 2 * kHugePage) return;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + size) & ~(kHugePage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

std::string_view ArrayDTypeName(ArrayDType dtype) {
  switch (dtype) {
    case ArrayDType::kFloat32: return "float32";
    case ArrayDType::kFloat64: return "float64";
    case ArrayDType::kInt32: return "int32";
    case ArrayDType::kInt64: return "int64";
  }
  return "unknown";
}

uint32_t Crc32(std::span<const unsigned char> bytes, uint32_t crc) {
  crc = ~crc;
  const unsigned char* p = bytes.data();
  size_t n = bytes.size();
  const auto& t = kCrcTables;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);  // little-endian host (asserted above)
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^
          t[3][hi & 0xffu] ^ t[2][(hi >> 8) & 0xffu] ^ t[1][(hi >> 16) & 0xffu] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = t[0][(crc ^ *p) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

void WriteArrayFile(const fs::path& path, std::span<const uint64_t> shape,
                    std::span<const float> values) {
  Write(path, shape, values);
}
void WriteArrayFile(const fs::path& path, std::span<const uint64_t> shape,
                    std::span<const double> values) {
  Write(path, shape, values);
}
void WriteArrayFile(const fs::path& path, std::span<const uint64_t> shape,
                    std::span<const int32_t> values) {
  Write(path, shape, values);
}
void WriteArrayFile(const fs::path& path, std::span<const uint64_t> shape,
                    std::span<const int64_t> values) {
  Write(path, shape, values);
}

template <typename T>
Array<T> ReadArrayFile(const fs::path& path) {
  std::string name = path.filename().string();
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in) {
    if (!fs::exists(path, ec)) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No such file: '{}'", path.string()));
    }
    throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", path.string()));
  }
  uint64_t file_size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", path.string()));
  auto read_exactly = [&](char* out, size_t size) {
    if (!in.read(out, static_cast<std::streamsize>(size))) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", path.string()));
    }
  };
  // The header is small and read first; the payload goes straight into the result, and only
  // once the header (checksummed) says how large it is and the file's size agrees.
  std::string bytes(std::min<uint64_t>(file_size, 32 + 8 * kMaxArrayRank), '\0');
  read_exactly(bytes.data(), bytes.size());
  auto u32_at = [&](size_t offset) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + offset, 4);
    return v;
  };
  auto u64_at = [&](size_t offset) {
    uint64_t v;
    std::memcpy(&v, bytes.data() + offset, 8);
    return v;
  };
  auto truncated_header = [&] {
    Corrupt(fmt::format("'{}' is truncated: it ends inside its header ({} bytes)", name,
                        file_size));
  };
  if (bytes.size() < 4 || std::string_view(bytes).substr(0, 4) != kMagic) {
    Corrupt(fmt::format("'{}' is not an mltrack array file: it does not start with \"MLTA\"", name));
  }
  if (bytes.size() < 16) truncated_header();
  uint32_t rank = u32_at(12);
  // A rank above the limit can only come from a damaged header: report it as the checksum
  // failure it is, rather than trusting the field.
  if (rank > kMaxArrayRank) {
    Corrupt(fmt::format("header checksum mismatch in '{}': the file is corrupted", name));
  }
  size_t header_size = 32 + 8 * size_t{rank};
  if (bytes.size() < header_size) truncated_header();
  std::string_view header(bytes.data(), header_size - 4);
  if (Crc32(Bytes(header)) != u32_at(header_size - 4)) {
    Corrupt(fmt::format("header checksum mismatch in '{}': the file is corrupted", name));
  }
  uint32_t version = u32_at(4);
  if (version != kArrayFormatVersion) {
    Corrupt(fmt::format("'{}' has array format version {}; this mltrack reads version {}", name,
                        version, kArrayFormatVersion));
  }
  uint32_t code = u32_at(8);
  if (code < 1 || code > 4) Corrupt(fmt::format("'{}' has unknown dtype code {}", name, code));
  auto dtype = static_cast<ArrayDType>(code);
  if (dtype != kDTypeOf<T>) {
    Corrupt(fmt::format("'{}' holds {} values, expected {}", name, ArrayDTypeName(dtype),
                        ArrayDTypeName(kDTypeOf<T>)));
  }
  Array<T> array;
  for (uint32_t i = 0; i < rank; ++i) array.shape.push_back(u64_at(16 + 8 * size_t{i}));
  uint64_t payload_size = u64_at(16 + 8 * size_t{rank});
  auto count = Count(array.shape);
  if (!count || *count > UINT64_MAX / sizeof(T) || *count * sizeof(T) != payload_size) {
    Corrupt(fmt::format("'{}' has a payload size of {} bytes that does not match its shape", name,
                        payload_size));
  }
  uint64_t available = file_size - header_size;
  if (available < payload_size) {
    Corrupt(fmt::format("'{}' is truncated: its header says {} payload bytes, the file holds {}",
                        name, payload_size, available));
  }
  if (available > payload_size) {
    Corrupt(fmt::format("'{}' has {} unexpected bytes after its payload: the file is corrupted",
                        name, available - payload_size));
  }
  array.values.reserve(*count);
  AdviseHugePages(array.values.data(), payload_size);
  array.values.resize(*count);
  auto* payload = reinterpret_cast<char*>(array.values.data());
  // The part of the payload already read with the header, then the rest.
  size_t in_header = bytes.size() - header_size;
  std::memcpy(payload, bytes.data() + header_size, in_header);
  if (payload_size > in_header) read_exactly(payload + in_header, payload_size - in_header);
  auto payload_bytes =
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(payload), payload_size);
  if (Crc32(payload_bytes) != u32_at(header_size - 8)) {
    Corrupt(fmt::format("checksum mismatch in '{}': the file is corrupted", name));
  }
  return array;
}

template Array<float> ReadArrayFile<float>(const fs::path&);
template Array<double> ReadArrayFile<double>(const fs::path&);
template Array<int32_t> ReadArrayFile<int32_t>(const fs::path&);
template Array<int64_t> ReadArrayFile<int64_t>(const fs::path&);

}  // namespace mltrack::models
