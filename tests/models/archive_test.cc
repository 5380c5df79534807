#include "models/bundle/archive.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/crafted_archive.h"
#include "support/test_support.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;
using ::mltrack::models::testing::TarEntry;
using ::mltrack::models::testing::WriteTar;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;
using Kind = TarEntry::Kind;

void WriteSampleBundle(const fs::path& dir) {
  WriteFile(dir / "MLmodel", "flavors:\n  mltrack.als: {}\n");
  WriteFile(dir / "data/factors.bin", std::string("\0\1\2binary\xff", 10));
  WriteFile(dir / "data/nested/deeper.txt", "deep");
  WriteFile(dir / "run.sh", "#!/bin/sh\n");
  fs::permissions(dir / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_directories(dir / "empty");
}

// Every file and folder under `dir`, relative, sorted, with file contents.
std::vector<std::string> Listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    std::string line = entry.path().lexically_relative(dir).generic_string();
    if (entry.is_regular_file()) line += "=" + ReadFile(entry.path());
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BundleArchive, ExportImportRoundTrip) {
  TempDir dir;
  WriteSampleBundle(dir / "bundle");
  ExportBundle(dir / "bundle", dir / "bundle.tar.gz");
  ImportBundle(dir / "bundle.tar.gz", dir / "copy");
  EXPECT_EQ(Listing(dir / "copy"), Listing(dir / "bundle"));
  EXPECT_NE(fs::status(dir / "copy/run.sh").permissions() & fs::perms::owner_exec, fs::perms::none);
  EXPECT_EQ(fs::status(dir / "copy/MLmodel").permissions() & fs::perms::owner_exec, fs::perms::none);
}

TEST(BundleArchive, ExportIsDeterministic) {
  TempDir dir;
  WriteSampleBundle(dir / "a");
  WriteSampleBundle(dir / "b");
  // Different modification times and creation order must not change the bytes.
  fs::last_write_time(dir / "b/MLmodel", fs::last_write_time(dir / "b/MLmodel") - std::chrono::hours(50));
  ExportBundle(dir / "a", dir / "a.tar.gz");
  ExportBundle(dir / "b", dir / "b.tar.gz");
  std::string a = ReadFile(dir / "a.tar.gz");
  EXPECT_EQ(a, ReadFile(dir / "b.tar.gz"));
  ASSERT_GE(a.size(), 10u);
  EXPECT_EQ(a.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(a.substr(4, 4), std::string(4, '\0')) << "gzip header has a timestamp";
}

TEST(BundleArchive, ExportRefusesSymbolicLinks) {
  TempDir dir;
  WriteSampleBundle(dir / "bundle");
  fs::create_symlink("/etc/passwd", dir / "bundle/link");
  EXPECT_ERROR(ExportBundle(dir / "bundle", dir / "out.tar.gz"), ErrorCode::kInvalidParameterValue,
               Eq(fmt::format("Cannot export bundle '{}': 'link' is a symbolic link",
                              (dir / "bundle").string())));
  EXPECT_FALSE(fs::exists(dir / "out.tar.gz"));
}

// Imports `entries` into dir/dest with `limits` and expects the error; afterwards nothing but
// the archive is left in `dir`.
class ImportRefusal : public ::testing::Test {
 protected:
  void ExpectRefused(const std::vector<TarEntry>& entries, ErrorCode code,
                     const std::string& problem, const ArchiveLimits& limits = {}) {
    fs::path archive = dir_ / "evil.tar.gz";
    WriteTar(archive, entries);
    EXPECT_ERROR(ImportBundle(archive, dir_ / "dest", limits), code,
                 Eq(fmt::format("Cannot import bundle archive '{}': {}", archive.string(), problem)));
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      left.push_back(entry.path().filename().string());
    }
    EXPECT_THAT(left, ::testing::ElementsAre("evil.tar.gz"));
  }
  TempDir dir_;
};

TEST_F(ImportRefusal, ParentTraversal) {
  ExpectRefused({{.path = "MLmodel", .content = "x"}, {.path = "../x", .content = "pwned"}},
                ErrorCode::kInvalidParameterValue,
                "Invalid archive member '../x': it escapes its root folder");
  EXPECT_FALSE(fs::exists(dir_.path().parent_path() / "x"));
  ExpectRefused({{.path = "a/../../x", .content = "pwned"}}, ErrorCode::kInvalidParameterValue,
                "Invalid archive member 'a/../../x': it escapes its root folder");
}

TEST_F(ImportRefusal, AbsolutePath) {
  ExpectRefused({{.path = "/etc/x", .content = "pwned"}}, ErrorCode::kInvalidParameterValue,
                "Invalid archive member '/etc/x': it must be a relative path");
}

TEST_F(ImportRefusal, SymlinkEscapes) {
  ExpectRefused({{.path = "up", .kind = Kind::kSymlink, .link = "../.."}},
                ErrorCode::kInvalidParameterValue,
                "symbolic link 'up' points outside the bundle ('../..')");
  ExpectRefused({{.path = "a/b", .kind = Kind::kSymlink, .link = "../../x"}},
                ErrorCode::kInvalidParameterValue,
                "symbolic link 'a/b' points outside the bundle ('../../x')");
  ExpectRefused({{.path = "etc", .kind = Kind::kSymlink, .link = "/etc"}},
                ErrorCode::kInvalidParameterValue,
                "symbolic link 'etc' points outside the bundle ('/etc')");
}

TEST_F(ImportRefusal, WriteThroughALinkPlantedByAnEarlierEntry) {
  // The classic two-step: an in-bundle link to a folder, then a file written "into" it whose
  // path, once the link is followed, lands outside. The link itself must already be refused.
  ExpectRefused({{.path = "d", .kind = Kind::kSymlink, .link = ".."},
                 {.path = "d/x", .content = "pwned"}},
                ErrorCode::kInvalidParameterValue,
                "symbolic link 'd' points outside the bundle ('..')");
}

TEST_F(ImportRefusal, HardLinkOutside) {
  ExpectRefused({{.path = "h", .kind = Kind::kHardlink, .link = "../../etc/passwd"}},
                ErrorCode::kInvalidParameterValue,
                "hard link 'h' points outside the bundle ('../../etc/passwd')");
  ExpectRefused({{.path = "h", .kind = Kind::kHardlink, .link = "/etc/passwd"}},
                ErrorCode::kInvalidParameterValue,
                "hard link 'h' points outside the bundle ('/etc/passwd')");
}

TEST_F(ImportRefusal, DevicesAndFifos) {
  ExpectRefused({{.path = "MLmodel", .content = "x"}, {.path = "dev/null", .kind = Kind::kCharDevice}},
                ErrorCode::kInvalidParameterValue,
                "archive member 'dev/null' is a character device: only files, folders and links "
                "are allowed");
  ExpectRefused({{.path = "pipe", .kind = Kind::kFifo}}, ErrorCode::kInvalidParameterValue,
                "archive member 'pipe' is a FIFO: only files, folders and links are allowed");
}

TEST_F(ImportRefusal, DuplicateEntry) {
  ExpectRefused({{.path = "a", .content = "1"}, {.path = "a", .content = "2"}},
                ErrorCode::kInvalidParameterValue, "archive member 'a' appears twice");
}

TEST_F(ImportRefusal, DecompressionBombIsStoppedAtTheEntryLimit) {
  ArchiveLimits limits{.max_entry_bytes = 1 << 20, .max_total_bytes = 1 << 30};
  ExpectRefused({{.path = "MLmodel", .content = "x"}, {.path = "bomb", .zero_bytes = 64u << 20}},
                ErrorCode::kResourceLimitExceeded,
                "archive member 'bomb' expands past the limit of 1048576 bytes per file", limits);
  EXPECT_LT(fs::file_size(dir_ / "evil.tar.gz"), 200u * 1024);  // small archive, huge expansion
}

TEST_F(ImportRefusal, TotalSizeIsCheckedWhileStreaming) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 10; ++i) {
    entries.push_back({.path = fmt::format("part{:02d}", i), .zero_bytes = 256u << 10});
  }
  ArchiveLimits limits{.max_entry_bytes = 1 << 20, .max_total_bytes = 1 << 20};
  ExpectRefused(entries, ErrorCode::kResourceLimitExceeded,
                "its members expand past the limit of 1048576 bytes in all (at 'part04')", limits);
}

TEST_F(ImportRefusal, TooManyEntries) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 6; ++i) entries.push_back({.path = fmt::format("f{}", i), .content = "x"});
  ExpectRefused(entries, ErrorCode::kResourceLimitExceeded, "it has more than 5 entries",
                ArchiveLimits{.max_entries = 5});
}

TEST(BundleArchive, ImportAcceptsLinksThatStayInside) {
  TempDir dir;
  WriteTar(dir / "ok.tar.gz", {{.path = "data/a.txt", .content = "A"},
                               {.path = "latest", .kind = Kind::kSymlink, .link = "data/a.txt"},
                               {.path = "data/self", .kind = Kind::kSymlink, .link = "../data"},
                               {.path = "copy.txt", .kind = Kind::kHardlink, .link = "data/a.txt"}});
  ImportBundle(dir / "ok.tar.gz", dir / "dest");
  EXPECT_EQ(ReadFile(dir / "dest/latest"), "A");
  EXPECT_EQ(ReadFile(dir / "dest/copy.txt"), "A");
  EXPECT_EQ(fs::read_symlink(dir / "dest/data/self"), "../data");
}

TEST(BundleArchive, ImportReadsAnUncompressedTar) {
  TempDir dir;
  WriteTar(dir / "plain.tar", {{.path = "./MLmodel", .content = "m"}}, /*gzip=*/false);
  ImportBundle(dir / "plain.tar", dir / "dest");
  EXPECT_EQ(ReadFile(dir / "dest/MLmodel"), "m");
}

TEST(BundleArchive, ImportRefusesAnExistingDestinationAndAMissingArchive) {
  TempDir dir;
  WriteSampleBundle(dir / "bundle");
  ExportBundle(dir / "bundle", dir / "b.tar.gz");
  EXPECT_ERROR(ImportBundle(dir / "b.tar.gz", dir / "bundle"), ErrorCode::kResourceAlreadyExists,
               Eq(fmt::format("Cannot import bundle archive '{}' into '{}': it already exists",
                              (dir / "b.tar.gz").string(), (dir / "bundle").string())));
  EXPECT_ERROR(ImportBundle(dir / "nope.tar.gz", dir / "x"), ErrorCode::kResourceDoesNotExist,
               Eq(fmt::format("No such bundle archive: '{}'", (dir / "nope.tar.gz").string())));
}

TEST(BundleArchive, ImportRefusesGarbage) {
  TempDir dir;
  WriteFile(dir / "junk.tar.gz", std::string("\x1f\x8b\x08\0garbage garbage", 19));
  EXPECT_ERROR(ImportBundle(dir / "junk.tar.gz", dir / "dest"), ErrorCode::kInvalidParameterValue,
               ::testing::StartsWith(fmt::format("Cannot import bundle archive '{}': it is not a",
                                                 (dir / "junk.tar.gz").string())));
  EXPECT_FALSE(fs::exists(dir / "dest"));
}

}  // namespace
}  // namespace mltrack::models
