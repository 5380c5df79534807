// Atomic files: a file is written under a temporary name in its destination's folder and renamed
// into place once complete and synced, so that a reader sees either the old file or the whole new
// one, never a part. Used by the local artifact repository, the server's artifact uploads and the
// HTTP client's downloads.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mltrack {

// Temporary files start with this prefix. Readers of a folder that writers share (artifact
// listings and downloads) skip such names: they are a concurrent writer's work in progress.
inline constexpr std::string_view kTempFilePrefix = ".mlt-tmp-";

// Whether `file_name` (one path component, not a path) is one of those temporary files.
bool IsTempFileName(std::string_view file_name);

// An owned file descriptor (-1: none), closed on destruction unless closed before. Movable.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;

  int get() const { return fd_; }
  // Closes now and returns close's result: its failure is the last chance to see a delayed write
  // error, which the destructor would ignore.
  int Close();

 private:
  int fd_;
};

// Writes `dest` atomically: the bytes go to a new temporary file beside it (kTempFilePrefix +
// 6 random characters), which Commit syncs and renames over `dest`. Until Commit succeeds `dest`
// is untouched, and the destructor removes the temporary file: a failed or abandoned write leaves
// nothing behind. The folder of `dest` must exist. Not thread-safe; after a failure (an Error
// thrown, or TryWrite's errno), give up and destroy the writer.
//
// Every failure throws Error(kIoError) whose message begins with the caller's `error_prefix`
// (e.g. "Cannot write artifact 'a/b.txt'"):
//   "<error_prefix>: <strerror>"                  the temporary file cannot be created
//   "<error_prefix>: <step> failed: <strerror>"   step: write, chmod, fsync, close or rename
class AtomicFileWriter {
 public:
  // `mode`: the permission bits `dest` gets, exactly (the umask does not apply); nullopt: those
  // of any new file, 0666 & ~umask. The temporary file is private (0600) until Commit when a mode
  // is given.
  AtomicFileWriter(const std::filesystem::path& dest, std::string error_prefix,
                   std::optional<mode_t> mode = 0644);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends `size` bytes; throws as above ("write failed") when they cannot all be written.
  void Write(const char* data, size_t size);
  // The same without throwing, for callbacks that must not throw: 0 when written, otherwise the
  // errno of the failure, for the caller to report.
  int TryWrite(const char* data, size_t size) noexcept;
  // Sets the mode, fsyncs, closes and renames the file over `dest`. The folder itself is not
  // synced: call SyncFolder(dest.parent_path()) when the rename must survive a crash.
  void Commit();

  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void Fail(std::string_view step, int err) const;

  std::filesystem::path dest_;
  std::filesystem::path temp_path_;
  std::string error_prefix_;
  std::optional<mode_t> mode_;
  Fd fd_;
  bool committed_ = false;
};

// Best effort fsync of a folder, making the renames and creations in it durable; failures are
// ignored (some file systems cannot sync a folder).
void SyncFolder(const std::filesystem::path& folder) noexcept;

}  // namespace mltrack
