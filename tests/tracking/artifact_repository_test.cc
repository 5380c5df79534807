#include "tracking/artifact_repository.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/tracking_uri.h"
#include "support/test_support.h"

namespace mltrack {
// For ElementsAre(FileInfo{...}); found by argument-dependent lookup, so in FileInfo's namespace,
// and static so that no other test file's definition can clash with it.
static bool operator==(const FileInfo& a, const FileInfo& b) {
  return a.path == b.path && a.is_dir == b.is_dir && a.file_size == b.file_size;
}
static void PrintTo(const FileInfo& f, std::ostream* os) {
  *os << "{" << f.path << (f.is_dir ? " dir" : " file") << " " << f.file_size << "}";
}
}  // namespace mltrack

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Everything under `dir`, recursively, without following links: "a/", "a/b.txt", "link@".
std::vector<std::string> Tree(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    std::string name = entry.path().lexically_relative(dir).generic_string();
    if (entry.is_symlink()) {
      name += "@";
    } else if (entry.is_directory()) {
      name += "/";
    }
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Lowers the process's file size limit for its lifetime, so that a write past `bytes` fails
// with EFBIG in the middle of a copy (SIGXFSZ ignored). Keep the scope to the one call: while
// it lasts, output to a large redirected log file would fail too.
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

class LocalArtifactRepositoryTest : public ::testing::Test {
 protected:
  TempDir dir_;
  fs::path root_ = dir_ / "artifacts";
  fs::path src_ = dir_ / "src";
  LocalArtifactRepository repo_{root_};
};

// --- LogFile -------------------------------------------------------------------------------

TEST_F(LocalArtifactRepositoryTest, LogFileCreatesTheRootAndTheFolder) {
  WriteFile(src_ / "loss.png", "png bytes");
  EXPECT_FALSE(fs::exists(root_));
  repo_.LogFile(src_ / "loss.png", "plots/epoch1");
  EXPECT_EQ(ReadFile(root_ / "plots/epoch1/loss.png"), "png bytes");
  EXPECT_THAT(Tree(root_), ElementsAre("plots/", "plots/epoch1/", "plots/epoch1/loss.png"));
}

TEST_F(LocalArtifactRepositoryTest, LogFileIntoTheRoot) {
  WriteFile(src_ / "a.txt", "A");
  repo_.LogFile(src_ / "a.txt", "");
  repo_.LogFile(src_ / "a.txt", ".");
  EXPECT_THAT(Tree(root_), ElementsAre("a.txt"));
  EXPECT_EQ(ReadFile(root_ / "a.txt"), "A");
}

TEST_F(LocalArtifactRepositoryTest, LogFileReplacesAnExistingArtifact) {
  WriteFile(src_ / "v1/model.txt", "first version, longer");
  WriteFile(src_ / "v2/model.txt", "second");
  repo_.LogFile(src_ / "v1/model.txt", "m");
  repo_.LogFile(src_ / "v2/model.txt", "m");
  EXPECT_EQ(ReadFile(root_ / "m/model.txt"), "second");
  EXPECT_THAT(Tree(root_), ElementsAre("m/", "m/model.txt"));
}

TEST_F(LocalArtifactRepositoryTest, LogFileKeepsThePermissionBits) {
  WriteFile(src_ / "run.sh", "#!/bin/sh\n");
  fs::permissions(src_ / "run.sh", fs::perms(0754));
  repo_.LogFile(src_ / "run.sh", "");
  EXPECT_EQ(fs::status(root_ / "run.sh").permissions(), fs::perms(0754));
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesAMissingFile) {
  EXPECT_ERROR(repo_.LogFile(src_ / "nope.txt", "x"), ErrorCode::kInvalidParameterValue,
               Eq("No such file or directory: '" + (src_ / "nope.txt").string() + "'"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesAFolder) {
  fs::create_directories(src_ / "d");
  EXPECT_ERROR(repo_.LogFile(src_ / "d", ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (src_ / "d").string() + "' as a file: it is a folder"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesAnArtifactDirThatEscapes) {
  WriteFile(src_ / "a.txt", "A");
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", "../escaped"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '../escaped': it escapes its root folder"));
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", "sub/../../escaped"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'sub/../../escaped': it escapes its root folder"));
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", (dir_ / "abs").string()),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '" + (dir_ / "abs").string() +
                  "': it must be a relative path"));
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_THAT(Tree(dir_.path()), ElementsAre("src/", "src/a.txt"));
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesASymlinkPlantedInTheRoot) {
  WriteFile(src_ / "a.txt", "A");
  fs::create_directories(root_);
  fs::create_directories(dir_ / "outside");
  fs::create_directory_symlink(dir_ / "outside", root_ / "plots");
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", "plots"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'plots/a.txt': it escapes its root folder through the "
                  "symbolic link 'plots'"));
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", "plots/deeper"), ErrorCode::kInvalidParameterValue,
               HasSubstr("through the symbolic link 'plots'"));
  EXPECT_THAT(Tree(dir_ / "outside"), IsEmpty());
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesADanglingSymlinkAtTheDestination) {
  WriteFile(src_ / "a.txt", "A");
  fs::create_directories(root_);
  fs::create_symlink(dir_ / "outside.txt", root_ / "a.txt");
  EXPECT_ERROR(repo_.LogFile(src_ / "a.txt", ""), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid artifact path 'a.txt': it escapes its root folder"));
  EXPECT_FALSE(fs::exists(dir_ / "outside.txt"));
}

TEST_F(LocalArtifactRepositoryTest, LogFileRefusesToReplaceAFolder) {
  WriteFile(src_ / "model", "a file named like a folder");
  WriteFile(root_ / "model/MLmodel", "flavors: {}");
  EXPECT_ERROR(repo_.LogFile(src_ / "model", ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot write artifact 'model': a folder of that name exists"));
  EXPECT_THAT(Tree(root_), ElementsAre("model/", "model/MLmodel"));
}

TEST_F(LocalArtifactRepositoryTest, LogFileThatFailsMidwayLeavesTheOldArtifactWhole) {
  WriteFile(src_ / "old/data.bin", "old contents");
  WriteFile(src_ / "new/data.bin", std::string(256 * 1024, 'x'));
  repo_.LogFile(src_ / "old/data.bin", "d");
  {
    FileSizeLimit limit(64 * 1024);
    try {
      repo_.LogFile(src_ / "new/data.bin", "d");
      ADD_FAILURE() << "expected the write to fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIoError);
      EXPECT_THAT(e.what(), HasSubstr("Cannot write artifact 'd/data.bin': write failed: "));
    }
  }
  EXPECT_EQ(ReadFile(root_ / "d/data.bin"), "old contents");
  EXPECT_THAT(Tree(root_), ElementsAre("d/", "d/data.bin"));  // no temporary file left
}

// --- LogDir --------------------------------------------------------------------------------

TEST_F(LocalArtifactRepositoryTest, LogDirCopiesFilesAndFoldersRecursively) {
  WriteFile(src_ / "MLmodel", "flavors: {}");
  WriteFile(src_ / "data/model.json", "{}");
  WriteFile(src_ / "data/deep/er.txt", "deep");
  fs::create_directories(src_ / "empty");
  repo_.LogDir(src_, "model");
  EXPECT_THAT(Tree(root_), ElementsAre("model/", "model/MLmodel", "model/data/",
                                       "model/data/deep/", "model/data/deep/er.txt",
                                       "model/data/model.json", "model/empty/"));
  EXPECT_EQ(ReadFile(root_ / "model/data/deep/er.txt"), "deep");
}

TEST_F(LocalArtifactRepositoryTest, LogDirIntoTheRootMergesWithWhatIsThere) {
  WriteFile(root_ / "keep.txt", "kept");
  WriteFile(root_ / "replace.txt", "old");
  WriteFile(src_ / "replace.txt", "new");
  repo_.LogDir(src_, "");
  EXPECT_EQ(ReadFile(root_ / "keep.txt"), "kept");
  EXPECT_EQ(ReadFile(root_ / "replace.txt"), "new");
}

TEST_F(LocalArtifactRepositoryTest, LogDirFollowsSymlinksThatStayInsideTheSource) {
  WriteFile(src_ / "real/f.txt", "F");
  fs::create_symlink("real/f.txt", src_ / "alias.txt");
  fs::create_directory_symlink("real", src_ / "alias-dir");
  repo_.LogDir(src_, "");
  EXPECT_THAT(Tree(root_), ElementsAre("alias-dir/", "alias-dir/f.txt", "alias.txt", "real/",
                                       "real/f.txt"));
  EXPECT_EQ(ReadFile(root_ / "alias.txt"), "F");
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesASymlinkLeadingOutOfTheSource) {
  WriteFile(src_ / "a.txt", "A");
  WriteFile(dir_ / "secret.txt", "secret");
  fs::create_directories(src_ / "sub");
  fs::create_symlink(dir_ / "secret.txt", src_ / "sub/z-link");
  EXPECT_ERROR(repo_.LogDir(src_, "x"), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (src_ / "sub/z-link").string() +
                  "': it is a symbolic link that leads outside '" + src_.string() + "'"));
  EXPECT_FALSE(fs::exists(root_));  // checked before anything was written
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesADanglingSymlink) {
  WriteFile(src_ / "a.txt", "A");
  fs::create_symlink("gone.txt", src_ / "b.txt");
  EXPECT_ERROR(repo_.LogDir(src_, ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (src_ / "b.txt").string() +
                  "': it is a dangling symbolic link"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesASymlinkLoop) {
  fs::create_directories(src_ / "a");
  fs::create_directories(src_ / "b");
  fs::create_directory_symlink("../b", src_ / "a/to-b");
  fs::create_directory_symlink("../a", src_ / "b/to-a");
  EXPECT_ERROR(repo_.LogDir(src_, ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (src_ / "a/to-b/to-a").string() +
                  "': it is a symbolic link back into a folder that contains it"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesSpecialFiles) {
  WriteFile(src_ / "a.txt", "A");
  ASSERT_EQ(mkfifo((src_ / "pipe").c_str(), 0600), 0);
  EXPECT_ERROR(repo_.LogDir(src_, ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (src_ / "pipe").string() +
                  "': it is not a regular file or folder"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesAMissingOrNonFolderSource) {
  EXPECT_ERROR(repo_.LogDir(src_, ""), ErrorCode::kInvalidParameterValue,
               Eq("No such file or directory: '" + src_.string() + "'"));
  WriteFile(dir_ / "file.txt", "x");
  EXPECT_ERROR(repo_.LogDir(dir_ / "file.txt", ""), ErrorCode::kInvalidParameterValue,
               Eq("Cannot log '" + (dir_ / "file.txt").string() +
                  "' as a folder: it is not a folder"));
  EXPECT_FALSE(fs::exists(root_));
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesAnArtifactDirThatEscapes) {
  WriteFile(src_ / "a.txt", "A");
  EXPECT_ERROR(repo_.LogDir(src_, ".."), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '..': it escapes its root folder"));
  EXPECT_FALSE(fs::exists(root_));
  EXPECT_THAT(Tree(dir_.path()), ElementsAre("src/", "src/a.txt"));
}

TEST_F(LocalArtifactRepositoryTest, LogDirRefusesASymlinkPlantedInTheRoot) {
  WriteFile(src_ / "a.txt", "A");
  WriteFile(src_ / "sub/b.txt", "B");
  fs::create_directories(root_ / "model");
  fs::create_directories(dir_ / "outside");
  fs::create_directory_symlink(dir_ / "outside", root_ / "model/sub");
  EXPECT_ERROR(repo_.LogDir(src_, "model"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'model/sub': it escapes its root folder through the "
                  "symbolic link 'model/sub'"));
  EXPECT_THAT(Tree(dir_ / "outside"), IsEmpty());
  EXPECT_THAT(Tree(root_), ElementsAre("model/", "model/sub@"));  // a.txt was not written either
}

TEST_F(LocalArtifactRepositoryTest, LogDirThatFailsMidwayLeavesNoHalfWrittenFile) {
  WriteFile(src_ / "a.txt", "small");
  WriteFile(src_ / "b.bin", std::string(256 * 1024, 'b'));
  WriteFile(src_ / "c.txt", "never reached");
  {
    FileSizeLimit limit(64 * 1024);
    try {
      repo_.LogDir(src_, "out");
      ADD_FAILURE() << "expected the write to fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIoError);
      EXPECT_THAT(e.what(), HasSubstr("Cannot write artifact 'out/b.bin': write failed: "));
    }
  }
  // Files are copied in sorted order, each one whole or not at all.
  EXPECT_THAT(Tree(root_), ElementsAre("out/", "out/a.txt"));
  EXPECT_EQ(ReadFile(root_ / "out/a.txt"), "small");
}

// --- List ----------------------------------------------------------------------------------

TEST_F(LocalArtifactRepositoryTest, ListGivesDirectChildrenSortedWithSizes) {
  WriteFile(src_ / "b.txt", "12345");
  WriteFile(src_ / "a/x.txt", "xy");
  WriteFile(src_ / "c/d/e.txt", "");
  repo_.LogDir(src_, "");
  EXPECT_THAT(repo_.List(""), ElementsAre(FileInfo{"a", true, 0}, FileInfo{"b.txt", false, 5},
                                          FileInfo{"c", true, 0}));
  EXPECT_THAT(repo_.List("c"), ElementsAre(FileInfo{"c/d", true, 0}));
  EXPECT_THAT(repo_.List("c//d/"), ElementsAre(FileInfo{"c/d/e.txt", false, 0}));
  EXPECT_THAT(repo_.List("a"), ElementsAre(FileInfo{"a/x.txt", false, 2}));
}

TEST_F(LocalArtifactRepositoryTest, ListOfAFileOrAMissingPathIsEmpty) {
  EXPECT_THAT(repo_.List(""), IsEmpty());  // nothing logged yet: no root folder
  WriteFile(root_ / "f.txt", "x");
  EXPECT_THAT(repo_.List("f.txt"), IsEmpty());
  EXPECT_THAT(repo_.List("missing"), IsEmpty());
  EXPECT_THAT(repo_.List("missing/deeper"), IsEmpty());
}

TEST_F(LocalArtifactRepositoryTest, ListRefusesPathsThatEscape) {
  fs::create_directories(root_);
  fs::create_directory_symlink(dir_.path(), root_ / "up");
  EXPECT_ERROR(repo_.List(".."), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '..': it escapes its root folder"));
  EXPECT_ERROR(repo_.List("/etc"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '/etc': it must be a relative path"));
  EXPECT_ERROR(repo_.List("up"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'up': it escapes its root folder through the symbolic "
                  "link 'up'"));
}

TEST_F(LocalArtifactRepositoryTest, ListLeavesOutLinksLeadingOutAndTemporaryFiles) {
  WriteFile(root_ / "a.txt", "A");
  WriteFile(root_ / "real/f", "F");
  WriteFile(root_ / ".mlt-tmp-Ab12Cd", "in-flight write");
  WriteFile(dir_ / "secret.txt", "secret");
  fs::create_symlink(dir_ / "secret.txt", root_ / "leak.txt");
  fs::create_directory_symlink("real", root_ / "alias");
  EXPECT_THAT(repo_.List(""), ElementsAre(FileInfo{"a.txt", false, 1},
                                          FileInfo{"alias", true, 0},
                                          FileInfo{"real", true, 0}));
}

// --- Download ------------------------------------------------------------------------------

TEST_F(LocalArtifactRepositoryTest, DownloadAFileKeepsItsArtifactPath) {
  WriteFile(root_ / "model/MLmodel", "flavors: {}");
  TempDir dest;
  fs::path local = repo_.Download("model/MLmodel", dest.path());
  EXPECT_EQ(local, dest.path() / "model/MLmodel");
  EXPECT_EQ(ReadFile(local), "flavors: {}");
  EXPECT_THAT(Tree(dest.path()), ElementsAre("model/", "model/MLmodel"));
}

TEST_F(LocalArtifactRepositoryTest, DownloadAFolderCopiesItWhole) {
  WriteFile(root_ / "model/MLmodel", "m");
  WriteFile(root_ / "model/data/w.bin", "w");
  fs::create_directories(root_ / "model/empty");
  WriteFile(root_ / "other.txt", "not downloaded");
  TempDir dest;
  fs::path local = repo_.Download("model/", dest / "new");
  EXPECT_EQ(local, dest.path() / "new/model");
  EXPECT_THAT(Tree(dest.path()), ElementsAre("new/", "new/model/", "new/model/MLmodel",
                                             "new/model/data/", "new/model/data/w.bin",
                                             "new/model/empty/"));
}

TEST_F(LocalArtifactRepositoryTest, DownloadEverything) {
  WriteFile(root_ / "a.txt", "A");
  WriteFile(root_ / "d/b.txt", "B");
  TempDir dest;
  EXPECT_EQ(repo_.Download("", dest.path()), dest.path());
  EXPECT_THAT(Tree(dest.path()), ElementsAre("a.txt", "d/", "d/b.txt"));
}

TEST_F(LocalArtifactRepositoryTest, DownloadEverythingBeforeAnythingWasLogged) {
  TempDir dest;
  EXPECT_EQ(repo_.Download("", dest / "out"), dest.path() / "out");
  EXPECT_TRUE(fs::is_directory(dest / "out"));
  EXPECT_THAT(Tree(dest / "out"), IsEmpty());
}

TEST_F(LocalArtifactRepositoryTest, DownloadRefusesAMissingArtifact) {
  WriteFile(root_ / "a.txt", "A");
  TempDir dest;
  EXPECT_ERROR(repo_.Download("model/MLmodel", dest.path()), ErrorCode::kResourceDoesNotExist,
               Eq("Artifact 'model/MLmodel' does not exist"));
  EXPECT_THAT(Tree(dest.path()), IsEmpty());
}

TEST_F(LocalArtifactRepositoryTest, DownloadRefusesPathsThatEscape) {
  WriteFile(root_ / "a.txt", "A");
  WriteFile(dir_ / "secret.txt", "secret");
  fs::create_symlink(dir_ / "secret.txt", root_ / "leak.txt");
  TempDir dest;
  EXPECT_ERROR(repo_.Download("../secret.txt", dest.path()), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '../secret.txt': it escapes its root folder"));
  EXPECT_ERROR(repo_.Download("leak.txt", dest.path()), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'leak.txt': it escapes its root folder through the "
                  "symbolic link 'leak.txt'"));
  EXPECT_ERROR(repo_.Download("", dest.path()), ErrorCode::kInvalidParameterValue,
               Eq("Cannot download artifact 'leak.txt': it is a symbolic link that leads "
                  "outside the artifact root"));
  EXPECT_THAT(Tree(dest.path()), IsEmpty());
}

// --- OpenArtifactRepository ----------------------------------------------------------------

TEST(OpenArtifactRepository, OpensFileUrisAndPlainPathsLocally) {
  TempDir dir;
  WriteFile(dir / "src/a.txt", "A");
  OpenArtifactRepository(FileUriFromPath((dir / "by uri").string()))->LogFile(dir / "src/a.txt", "");
  OpenArtifactRepository((dir / "by-path").string())->LogFile(dir / "src/a.txt", "x");
  EXPECT_EQ(ReadFile(dir / "by uri/a.txt"), "A");  // %20 in the URI decoded
  EXPECT_EQ(ReadFile(dir / "by-path/x/a.txt"), "A");
  EXPECT_THAT(OpenArtifactRepository("file://" + (dir / "by-path").string())->List("x"),
              ElementsAre(FileInfo{"x/a.txt", false, 1}));
}

TEST(OpenArtifactRepository, RefusesSchemesThisBuildCannotReach) {
  EXPECT_ERROR(OpenArtifactRepository("mlflow-artifacts:/1/abc/artifacts"),
               ErrorCode::kInvalidParameterValue,
               Eq("Cannot open artifact URI 'mlflow-artifacts:/1/abc/artifacts': artifact URI "
                  "scheme 'mlflow-artifacts' is not supported by this build"));
  EXPECT_ERROR(OpenArtifactRepository("s3://bucket/path"), ErrorCode::kInvalidParameterValue,
               HasSubstr("artifact URI scheme 's3' is not supported by this build"));
  EXPECT_ERROR(OpenArtifactRepository("https://host/x"), ErrorCode::kInvalidParameterValue,
               HasSubstr("artifact URI scheme 'https' is not supported by this build"));
  EXPECT_ERROR(OpenArtifactRepository("file://otherhost/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid file URI 'file://otherhost/x': it names the host 'otherhost', not "
                  "this machine"));
  EXPECT_ERROR(OpenArtifactRepository(""), ErrorCode::kInvalidParameterValue,
               Eq("The artifact URI is empty"));
}

}  // namespace
}  // namespace mltrack::tracking
