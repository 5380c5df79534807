// Bundle archives: a model bundle directory as one .tar.gz, and back.
//
// This file's .cc is the only one that includes <archive.h>.
#pragma once

#include <cstdint>
#include <filesystem>

namespace mltrack::models {

// What ImportBundle accepts from an archive. Checked while streaming: a decompression bomb is
// stopped at the entry and byte that crosses a limit, not after it has been written out.
struct ArchiveLimits {
  uint64_t max_entries = 100'000;
  uint64_t max_entry_bytes = uint64_t{4} << 30;  // 4 GiB expanded, per file
  uint64_t max_total_bytes = uint64_t{8} << 30;  // 8 GiB expanded, all files together
};

// Writes the bundle directory `dir` as a gzip-compressed POSIX tar at `out_archive` (through a
// temporary file renamed into place). Deterministic: entries in sorted path order, relative to
// `dir`, with mtime 0, uid/gid 0, no user or group names, modes 0755 (folders and executables)
// or 0644, and no timestamp in the gzip header: the same bundle content gives the same bytes.
// Throws Error(kInvalidParameterValue) when `dir` is not a folder or holds a symbolic link or a
// special file (naming it), kIoError when writing fails.
void ExportBundle(const std::filesystem::path& dir, const std::filesystem::path& out_archive);

// Extracts `archive` (a tar, optionally gzip-compressed) into the folder `dest_dir`, which must
// not exist yet. Entries are extracted into a temporary folder beside `dest_dir` that is renamed
// into place at the end: on any error nothing is left behind. Refused, with
// Error(kInvalidParameterValue) naming the archive and the entry:
//   absolute paths and ".." components     "... invalid archive member '../x': it escapes ..."
//   symbolic and hard links leading outside
//   devices, FIFOs and sockets             "... archive member 'dev/x' is a character device ..."
//   more entries, a larger entry or a larger total than `limits` allows (kResourceLimitExceeded)
// Error(kResourceAlreadyExists) when dest_dir exists; kResourceDoesNotExist when `archive` does not.
void ImportBundle(const std::filesystem::path& archive, const std::filesystem::path& dest_dir,
                  const ArchiveLimits& limits = {});

// Whether `path` names a bundle archive rather than a bundle folder: a regular file.
bool IsBundleArchive(const std::filesystem::path& path);

}  // namespace mltrack::models
