#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxNameAttempts = 100;

// kTempFilePrefix + 6 characters, as mkstemp's; names are tried with O_EXCL, so a repeated
// sequence (a forked child's) costs only another attempt.
std::string RandomTempName() {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string name(kTempFilePrefix);
  uint64_t bits = random();
  for (int i = 0; i < 6; ++i, bits /= kChars.size()) name += kChars[bits % kChars.size()];
  return name;
}

}  // namespace

bool IsTempFileName(std::string_view file_name) { return file_name.starts_with(kTempFilePrefix); }

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

int Fd::Close() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

AtomicFileWriter::AtomicFileWriter(const fs::path& dest, std::string error_prefix,
                                   std::optional<mode_t> mode)
    : dest_(dest), error_prefix_(std::move(error_prefix)), mode_(mode) {
  // Private until Commit sets the requested mode: the contents may be meant for the owner only.
  mode_t create_mode = mode_ ? 0600 : 0666;
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    fs::path candidate = dest_.parent_path() / RandomTempName();
    int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, create_mode);
    if (fd >= 0) {
      fd_ = Fd(fd);
      temp_path_ = std::move(candidate);
      return;
    }
    if (errno != EEXIST) break;
  }
  throw Error(ErrorCode::kIoError, fmt::format("{}: {}", error_prefix_, std::strerror(errno)));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) {
    if (fd_.get() >= 0) fd_.Close();
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFileWriter::Fail(std::string_view step, int err) const {
  throw Error(ErrorCode::kIoError,
              fmt::format("{}: {} failed: {}", error_prefix_, step, std::strerror(err)));
}

int AtomicFileWriter::TryWrite(const char* data, size_t size) noexcept {
  while (size > 0) {
    ssize_t put = ::write(fd_.get(), data, size);
    if (put < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += put;
    size -= static_cast<size_t>(put);
  }
  return 0;
}

void AtomicFileWriter::Write(const char* data, size_t size) {
  if (int err = TryWrite(data, size); err != 0) Fail("write", err);
}

void AtomicFileWriter::Commit() {
  assert(!committed_ && fd_.get() >= 0);
  if (mode_ && ::fchmod(fd_.get(), *mode_) != 0) Fail("chmod", errno);
  if (::fsync(fd_.get()) != 0) Fail("fsync", errno);
  if (fd_.Close() != 0) Fail("close", errno);
  if (::rename(temp_path_.c_str(), dest_.c_str()) != 0) Fail("rename", errno);
  committed_ = true;
}

void SyncFolder(const fs::path& folder) noexcept {
  if (int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace mltrack
