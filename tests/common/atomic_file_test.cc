#include "common/atomic_file.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Lowers the process's file size limit for its lifetime, so that a write past `bytes` fails
// with EFBIG (SIGXFSZ ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_limit_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = old_limit_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_limit_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_limit_;
  sighandler_t old_handler_;
};

TEST(IsTempFileName, MatchesOnlyThePrefixAtTheStart) {
  EXPECT_TRUE(IsTempFileName(".mlt-tmp-Ab12Cd"));
  EXPECT_TRUE(IsTempFileName(kTempFilePrefix));
  EXPECT_FALSE(IsTempFileName("model.mlt-tmp-Ab12Cd"));
  EXPECT_FALSE(IsTempFileName("mlt-tmp-Ab12Cd"));
  EXPECT_FALSE(IsTempFileName(""));
}

TEST(AtomicFileWriter, CommitMakesTheFileAppearWithItsContentsAndMode) {
  TempDir dir;
  {
    AtomicFileWriter writer(dir / "model.bin", "Cannot write 'model.bin'", 0640);
    writer.Write("hello, ", 7);
    EXPECT_EQ(writer.TryWrite("world", 5), 0);
    // Until Commit, only the temporary file exists, beside the destination.
    EXPECT_FALSE(fs::exists(dir / "model.bin"));
    EXPECT_EQ(writer.temp_path().parent_path(), dir.path());
    EXPECT_TRUE(IsTempFileName(writer.temp_path().filename().string()));
    EXPECT_THAT(Names(dir.path()), ElementsAre(writer.temp_path().filename().string()));
    EXPECT_EQ(fs::status(writer.temp_path()).permissions(), fs::perms(0600));
    writer.Commit();
  }
  EXPECT_EQ(ReadFile(dir / "model.bin"), "hello, world");
  EXPECT_EQ(fs::status(dir / "model.bin").permissions(), fs::perms(0640));
  EXPECT_THAT(Names(dir.path()), ElementsAre("model.bin"));
}

TEST(AtomicFileWriter, CommitReplacesAnExistingFileWhole) {
  TempDir dir;
  WriteFile(dir / "a.txt", "old contents");
  AtomicFileWriter writer(dir / "a.txt", "Cannot write 'a.txt'", 0755);
  writer.Write("new", 3);
  EXPECT_EQ(ReadFile(dir / "a.txt"), "old contents");
  writer.Commit();
  EXPECT_EQ(ReadFile(dir / "a.txt"), "new");
  EXPECT_EQ(fs::status(dir / "a.txt").permissions(), fs::perms(0755));
  EXPECT_THAT(Names(dir.path()), ElementsAre("a.txt"));
}

TEST(AtomicFileWriter, WithoutAModeTheFileGetsThatOfAnyNewFile) {
  TempDir dir;
  mode_t old_umask = ::umask(027);
  {
    AtomicFileWriter writer(dir / "a.txt", "Cannot write 'a.txt'", std::nullopt);
    writer.Write("x", 1);
    writer.Commit();
  }
  ::umask(old_umask);
  EXPECT_EQ(fs::status(dir / "a.txt").permissions(), fs::perms(0640));
}

TEST(AtomicFileWriter, DestructionWithoutCommitLeavesNothing) {
  TempDir dir;
  WriteFile(dir / "kept.txt", "old");
  {
    AtomicFileWriter writer(dir / "new.txt", "Cannot write 'new.txt'");
    writer.Write("abandoned", 9);
    AtomicFileWriter over_existing(dir / "kept.txt", "Cannot write 'kept.txt'");
    over_existing.Write("abandoned", 9);
    EXPECT_THAT(Names(dir.path()), SizeIs(3));
  }
  EXPECT_THAT(Names(dir.path()), ElementsAre("kept.txt"));
  EXPECT_EQ(ReadFile(dir / "kept.txt"), "old");
}

TEST(AtomicFileWriter, AFailedWriteThrowsAndLeavesNothing) {
  TempDir dir;
  WriteFile(dir / "data.bin", "old contents");
  const std::string big(256 * 1024, 'x');
  {
    AtomicFileWriter writer(dir / "data.bin", "Cannot write artifact 'd/data.bin'");
    FileSizeLimit limit(64 * 1024);
    EXPECT_ERROR(writer.Write(big.data(), big.size()), ErrorCode::kIoError,
                 Eq(fmt::format("Cannot write artifact 'd/data.bin': write failed: {}",
                                std::strerror(EFBIG))));
  }
  {
    AtomicFileWriter writer(dir / "data.bin", "Cannot write artifact 'd/data.bin'");
    FileSizeLimit limit(64 * 1024);
    EXPECT_EQ(writer.TryWrite(big.data(), big.size()), EFBIG);
  }
  EXPECT_EQ(ReadFile(dir / "data.bin"), "old contents");
  EXPECT_THAT(Names(dir.path()), ElementsAre("data.bin"));
}

TEST(AtomicFileWriter, AMissingFolderIsAnErrorThatCreatesNothing) {
  TempDir dir;
  EXPECT_ERROR(AtomicFileWriter(dir / "missing" / "a.txt", "Cannot write artifact 'missing/a.txt'"),
               ErrorCode::kIoError,
               Eq(fmt::format("Cannot write artifact 'missing/a.txt': {}", std::strerror(ENOENT))));
  EXPECT_THAT(Names(dir.path()), IsEmpty());
}

TEST(AtomicFileWriter, AReadOnlyFolderIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  TempDir dir;
  fs::create_directory(dir / "ro");
  fs::permissions(dir / "ro", fs::perms(0555));
  EXPECT_ERROR(AtomicFileWriter(dir / "ro" / "a.txt", "Cannot write 'ro/a.txt'"),
               ErrorCode::kIoError,
               Eq(fmt::format("Cannot write 'ro/a.txt': {}", std::strerror(EACCES))));
  fs::permissions(dir / "ro", fs::perms(0755));
  EXPECT_THAT(Names(dir / "ro"), IsEmpty());
}

TEST(AtomicFileWriter, AFailedRenameThrowsAndLeavesNothing) {
  TempDir dir;
  WriteFile(dir / "taken" / "inside.txt", "a folder of the destination's name");
  {
    AtomicFileWriter writer(dir / "taken", "Cannot write 'taken'");
    writer.Write("x", 1);
    EXPECT_ERROR(writer.Commit(), ErrorCode::kIoError,
                 Eq(fmt::format("Cannot write 'taken': rename failed: {}", std::strerror(EISDIR))));
  }
  EXPECT_THAT(Names(dir.path()), ElementsAre("taken"));
  EXPECT_THAT(Names(dir / "taken"), ElementsAre("inside.txt"));
}

}  // namespace
}  // namespace mltrack
