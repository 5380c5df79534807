#include "models/crafted_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>

namespace mltrack::models::testing {

void WriteTar(const std::filesystem::path& out, const std::vector<TarEntry>& entries, bool gzip) {
  struct archive* a = archive_write_new();
  auto check = [&](int rc) {
    if (rc != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
  };
  if (gzip) check(archive_write_add_filter_gzip(a));
  check(archive_write_set_format_pax_restricted(a));
  check(archive_write_open_filename(a, out.c_str()));
  std::string zeros(64 * 1024, '\0');
  for (const TarEntry& item : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, item.path.c_str());
    archive_entry_set_perm(entry, 0644);
    switch (item.kind) {
      case TarEntry::Kind::kFile:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(item.content.size() + item.zero_bytes));
        break;
      case TarEntry::Kind::kDir: archive_entry_set_filetype(entry, AE_IFDIR); break;
      case TarEntry::Kind::kSymlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, item.link.c_str());
        break;
      case TarEntry::Kind::kHardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, item.link.c_str());
        archive_entry_set_size(entry, 0);
        break;
      case TarEntry::Kind::kCharDevice:
        archive_entry_set_filetype(entry, AE_IFCHR);
        archive_entry_set_rdevmajor(entry, 1);
        archive_entry_set_rdevminor(entry, 3);
        break;
      case TarEntry::Kind::kFifo: archive_entry_set_filetype(entry, AE_IFIFO); break;
    }
    check(archive_write_header(a, entry));
    archive_entry_free(entry);
    if (item.kind != TarEntry::Kind::kFile) continue;
    if (!item.content.empty()) archive_write_data(a, item.content.data(), item.content.size());
    for (uint64_t left = item.zero_bytes; left > 0;) {
      size_t chunk = left < zeros.size() ? static_cast<size_t>(left) : zeros.size();
      if (archive_write_data(a, zeros.data(), chunk) < 0) {
        throw std::runtime_error(archive_error_string(a));
      }
      left -= chunk;
    }
  }
  check(archive_write_close(a));
  archive_write_free(a);
}

}  // namespace mltrack::models::testing
