#include "models/bundle/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/safe_path.h"
#include "mltrack/error.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlockSize = 64 * 1024;

struct ReadArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string ArchiveMessage(struct archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? text : "unknown libarchive error";
}

// --- export ---------------------------------------------------------------------------------

struct ExportEntry {
  std::string relative;  // generic form, '/' separated
  bool is_dir = false;
  bool executable = false;
  uint64_t size = 0;
};

std::vector<ExportEntry> ListBundle(const fs::path& dir) {
  std::vector<ExportEntry> entries;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    std::string relative = it->path().lexically_relative(dir).generic_string();
    fs::file_status status = it->symlink_status();
    ExportEntry entry{.relative = relative};
    if (fs::is_symlink(status)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot export bundle '{}': '{}' is a symbolic link", dir.string(),
                              relative));
    } else if (fs::is_directory(status)) {
      entry.is_dir = true;
    } else if (fs::is_regular_file(status)) {
      entry.size = it->file_size();
      entry.executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
    } else {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot export bundle '{}': '{}' is not a regular file",
                              dir.string(), relative));
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const ExportEntry& a, const ExportEntry& b) { return a.relative < b.relative; });
  return entries;
}

void WriteTar(const fs::path& dir, const std::vector<ExportEntry>& entries, int fd,
              const fs::path& out) {
  auto fail = [&](struct archive* a) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot write bundle archive '{}': {}", out.string(), ArchiveMessage(a)));
  };
  std::unique_ptr<struct archive, WriteArchiveDeleter> a(archive_write_new());
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) fail(a.get());
  // No modification time in the gzip header: the same bundle gives the same bytes.
  if (archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK) {
    fail(a.get());
  }
  // Level 1: model weights (floating point) barely compress at any level, and level 1 writes
  // them about three times faster than gzip's default 6.
  if (archive_write_set_filter_option(a.get(), "gzip", "compression-level", "1") != ARCHIVE_OK) {
    fail(a.get());
  }
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) fail(a.get());
  if (archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) fail(a.get());
  std::vector<char> buffer(kBlockSize);
  for (const ExportEntry& item : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), item.relative.c_str());
    archive_entry_set_filetype(entry.get(), item.is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), item.is_dir || item.executable ? 0755 : 0644);
    archive_entry_set_size(entry.get(), item.is_dir ? 0 : static_cast<la_int64_t>(item.size));
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) fail(a.get());
    if (item.is_dir) continue;
    fs::path source = dir / item.relative;
    Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (in.get() < 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}': {}", source.string(),
                                                   std::strerror(errno)));
    }
    uint64_t written = 0;
    while (written < item.size) {
      ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}': {}", source.string(),
                                                     std::strerror(errno)));
      }
      if (n == 0) break;
      size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, item.size - written));
      if (archive_write_data(a.get(), buffer.data(), chunk) < 0) fail(a.get());
      written += chunk;
    }
    if (written != item.size) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot export '{}': it changed while being read", source.string()));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) fail(a.get());
}

// --- import ---------------------------------------------------------------------------------

class Importer {
 public:
  Importer(const fs::path& archive, const fs::path& root, const ArchiveLimits& limits)
      : archive_(archive), root_(root), limits_(limits) {}

  void Run() {
    a_.reset(archive_read_new());
    archive_read_support_filter_gzip(a_.get());
    archive_read_support_filter_none(a_.get());
    archive_read_support_format_tar(a_.get());
    if (archive_read_open_filename(a_.get(), archive_.c_str(), kBlockSize) != ARCHIVE_OK) {
      Refuse(fmt::format("it is not a readable tar archive ({})", ArchiveMessage(a_.get())));
    }
    archive_entry* entry = nullptr;
    while (true) {
      int rc = archive_read_next_header(a_.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        Refuse(fmt::format("it is not a valid tar archive ({})", ArchiveMessage(a_.get())));
      }
      if (++entries_ > limits_.max_entries) {
        Refuse(fmt::format("it has more than {} entries", limits_.max_entries),
               ErrorCode::kResourceLimitExceeded);
      }
      Extract(entry);
    }
  }

 private:
  [[noreturn]] void Refuse(std::string_view problem,
                           ErrorCode code = ErrorCode::kInvalidParameterValue) const {
    throw Error(code, fmt::format("Cannot import bundle archive '{}': {}", archive_.string(),
                                  problem));
  }

  void Extract(archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name != nullptr ? raw_name : "";
    std::string relative;
    fs::path target;
    try {
      relative = NormalizeRelativePath(name, "archive member");
      target = ResolveUnder(root_, relative, "archive member");
    } catch (const Error& e) {
      Refuse(e.what());
    }
    mode_t type = archive_entry_filetype(entry);
    const char* hardlink = archive_entry_hardlink(entry);
    if (relative.empty()) {
      if (type == AE_IFDIR && hardlink == nullptr) return;  // "./": the root itself
      Refuse(fmt::format("archive member '{}' is not a file", name));
    }
    std::error_code ec;
    fs::file_status existing = fs::symlink_status(target, ec);
    if (fs::exists(existing)) {
      if (type == AE_IFDIR && hardlink == nullptr && fs::is_directory(existing)) return;
      Refuse(fmt::format("archive member '{}' appears twice", relative));
    }
    if (hardlink != nullptr) return ExtractHardLink(relative, target, hardlink);
    switch (type) {
      case AE_IFDIR: return MakeDirectories(target, relative);
      case AE_IFREG: return ExtractFile(entry, relative, target);
      case AE_IFLNK: return ExtractSymlink(entry, relative, target);
      case AE_IFCHR: return RefuseType(relative, "a character device");
      case AE_IFBLK: return RefuseType(relative, "a block device");
      case AE_IFIFO: return RefuseType(relative, "a FIFO");
      case AE_IFSOCK: return RefuseType(relative, "a socket");
      default: return RefuseType(relative, "of an unknown type");
    }
  }

  [[noreturn]] void RefuseType(const std::string& relative, std::string_view what) {
    Refuse(fmt::format("archive member '{}' is {}: only files, folders and links are allowed",
                       relative, what));
  }

  void MakeDirectories(const fs::path& dir, const std::string& relative) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot extract '{}': {}", relative, ec.message()));
    }
  }

  void ExtractFile(archive_entry* entry, const std::string& relative, const fs::path& target) {
    if (archive_entry_size_is_set(entry) &&
        static_cast<uint64_t>(archive_entry_size(entry)) > limits_.max_entry_bytes) {
      RefuseEntrySize(relative);
    }
    MakeDirectories(target.parent_path(), relative);
    mode_t mode = (archive_entry_perm(entry) & 0100) != 0 ? 0755 : 0644;
    Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (out.get() < 0) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot extract '{}': {}", relative, std::strerror(errno)));
    }
    uint64_t end = 0;
    while (true) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int rc = archive_read_data_block(a_.get(), &block, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        Refuse(fmt::format("archive member '{}' is corrupted ({})", relative,
                           ArchiveMessage(a_.get())));
      }
      uint64_t block_end = static_cast<uint64_t>(offset) + size;
      // Checked before the block is written: a bomb stops here, at the first byte too many.
      if (block_end > limits_.max_entry_bytes) RefuseEntrySize(relative);
      if (total_ + block_end > limits_.max_total_bytes) {
        Refuse(fmt::format("its members expand past the limit of {} bytes in all (at '{}')",
                           limits_.max_total_bytes, relative),
               ErrorCode::kResourceLimitExceeded);
      }
      const char* data = static_cast<const char*>(block);
      size_t done = 0;
      while (done < size) {
        ssize_t n = ::pwrite(out.get(), data + done, size - done, offset + done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          throw Error(ErrorCode::kIoError,
                      fmt::format("Cannot extract '{}': {}", relative, std::strerror(errno)));
        }
        done += static_cast<size_t>(n);
      }
      end = std::max(end, block_end);
    }
    if (::ftruncate(out.get(), static_cast<off_t>(end)) != 0 || out.Close() != 0) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("Cannot extract '{}': {}", relative, std::strerror(errno)));
    }
    total_ += end;
  }

  [[noreturn]] void RefuseEntrySize(const std::string& relative) {
    Refuse(fmt::format("archive member '{}' expands past the limit of {} bytes per file",
                       relative, limits_.max_entry_bytes),
           ErrorCode::kResourceLimitExceeded);
  }

  void ExtractSymlink(archive_entry* entry, const std::string& relative, const fs::path& target) {
    const char* raw = archive_entry_symlink(entry);
    std::string link = raw != nullptr ? raw : "";
    fs::path resolved = (fs::path(relative).parent_path() / link).lexically_normal();
    bool outside = link.empty() || fs::path(link).is_absolute() || resolved.empty() ||
                   *resolved.begin() == "..";
    if (!outside) {
      try {
        ResolveUnder(root_, resolved.generic_string(), "archive member");
      } catch (const Error&) {
        outside = true;
      }
    }
    if (outside) {
      Refuse(fmt::format("symbolic link '{}' points outside the bundle ('{}')", relative, link));
    }
    MakeDirectories(target.parent_path(), relative);
    std::error_code ec;
    fs::create_symlink(link, target, ec);
    if (ec) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot extract '{}': {}", relative, ec.message()));
    }
  }

  void ExtractHardLink(const std::string& relative, const fs::path& target, const char* link) {
    fs::path source;
    try {
      source = ResolveUnder(root_, NormalizeRelativePath(link, "archive member"), "archive member");
    } catch (const Error&) {
      Refuse(fmt::format("hard link '{}' points outside the bundle ('{}')", relative, link));
    }
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(source, ec))) {
      Refuse(fmt::format("hard link '{}' points to '{}', which is not a file extracted before it",
                         relative, link));
    }
    MakeDirectories(target.parent_path(), relative);
    fs::create_hard_link(source, target, ec);
    if (ec) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot extract '{}': {}", relative, ec.message()));
    }
  }

  fs::path archive_;
  fs::path root_;
  ArchiveLimits limits_;
  std::unique_ptr<struct archive, ReadArchiveDeleter> a_;
  uint64_t entries_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

void ExportBundle(const fs::path& dir, const fs::path& out_archive) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot export bundle '{}': it is not a folder", dir.string()));
  }
  std::vector<ExportEntry> entries = ListBundle(dir);
  fs::path parent = out_archive.parent_path().empty() ? fs::path(".") : out_archive.parent_path();
  std::string temp =
      (parent / fmt::format(".mlt-tmp-{}-XXXXXX", out_archive.filename().string())).string();
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot write bundle archive '{}': {}",
                                                 out_archive.string(), std::strerror(errno)));
  }
  try {
    WriteTar(dir, entries, fd.get(), out_archive);
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0 || fd.Close() != 0 ||
        ::rename(temp.c_str(), out_archive.c_str()) != 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot write bundle archive '{}': {}",
                                                   out_archive.string(), std::strerror(errno)));
    }
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

void ImportBundle(const fs::path& archive, const fs::path& dest_dir, const ArchiveLimits& limits) {
  std::error_code ec;
  if (!fs::is_regular_file(archive, ec)) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No such bundle archive: '{}'", archive.string()));
  }
  if (fs::exists(fs::symlink_status(dest_dir, ec))) {
    throw Error(ErrorCode::kResourceAlreadyExists,
                fmt::format("Cannot import bundle archive '{}' into '{}': it already exists",
                            archive.string(), dest_dir.string()));
  }
  fs::path parent = dest_dir.parent_path().empty() ? fs::path(".") : dest_dir.parent_path();
  fs::create_directories(parent, ec);
  std::string temp =
      (parent / fmt::format(".mlt-tmp-{}-XXXXXX", dest_dir.filename().string())).string();
  if (::mkdtemp(temp.data()) == nullptr) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot import into '{}': {}", dest_dir.string(),
                                                 std::strerror(errno)));
  }
  try {
    Importer(archive, temp, limits).Run();
    ::chmod(temp.c_str(), 0755);
    if (::rename(temp.c_str(), dest_dir.c_str()) != 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot import into '{}': {}",
                                                   dest_dir.string(), std::strerror(errno)));
    }
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

bool IsBundleArchive(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

}  // namespace mltrack::models
