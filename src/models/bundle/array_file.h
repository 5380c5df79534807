// Array files: the binary layout bundles use for large numeric arrays (factor matrices, tree
// tables, coefficients).
//
// Layout, all integers little-endian, the payload starting 8-byte aligned:
//
//   offset      size     field
//   0           4        magic "MLTA"
//   4           4        u32 format version (1)
//   8           4        u32 dtype code: 1 float32, 2 float64, 3 int32, 4 int64
//   12          4        u32 rank r (at most 32)
//   16          8 * r    u64 shape, outermost dimension first (row-major payload)
//   16 + 8r     8        u64 payload byte count (= product of shape * element size)
//   24 + 8r     4        u32 CRC-32 (IEEE 802.3, as zlib's crc32) of the payload
//   28 + 8r     4        u32 CRC-32 of the header bytes before this field
//   32 + 8r     n        payload: the values, little-endian, row-major
//
// The file ends right after the payload. ReadArrayFile refuses a file whose header or payload
// checksum does not match, whose length differs from the header's, or whose dtype is not the one
// asked for, with an error that names the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace mltrack::models {

enum class ArrayDType : uint32_t { kFloat32 = 1, kFloat64 = 2, kInt32 = 3, kInt64 = 4 };

inline constexpr uint32_t kArrayFormatVersion = 1;
inline constexpr uint32_t kMaxArrayRank = 32;

// "float32", "float64", "int32", "int64".
std::string_view ArrayDTypeName(ArrayDType dtype);

template <typename T>
struct Array {
  std::vector<uint64_t> shape;
  std::vector<T> values;  // row-major, product(shape) values
  bool operator==(const Array&) const = default;
};

// Writes the array through a temporary file renamed into place. Throws
// Error(kInvalidParameterValue) when values.size() is not the product of `shape` or the rank is
// above kMaxArrayRank, Error(kIoError) when the file cannot be written.
void WriteArrayFile(const std::filesystem::path& path, std::span<const uint64_t> shape,
                    std::span<const float> values);
void WriteArrayFile(const std::filesystem::path& path, std::span<const uint64_t> shape,
                    std::span<const double> values);
void WriteArrayFile(const std::filesystem::path& path, std::span<const uint64_t> shape,
                    std::span<const int32_t> values);
void WriteArrayFile(const std::filesystem::path& path, std::span<const uint64_t> shape,
                    std::span<const int64_t> values);

// Reads an array of element type T (float, double, int32_t, int64_t). Throws
// Error(kInvalidParameterValue) naming the file for a corrupted, truncated or foreign file:
//   "checksum mismatch in 'factors.bin': the file is corrupted"
//   "'factors.bin' is truncated: its header says 800 payload bytes, the file holds 312"
//   "'factors.bin' holds float64 values, expected int32"
// and Error(kResourceDoesNotExist) when it does not exist. Files are named by their file name
// only, so messages do not depend on where a bundle was unpacked.
template <typename T>
Array<T> ReadArrayFile(const std::filesystem::path& path);

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), continuing from `crc` (0 to start).
uint32_t Crc32(std::span<const unsigned char> bytes, uint32_t crc = 0);

}  // namespace mltrack::models
