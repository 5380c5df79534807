#include "common/safe_path.h"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;

TEST(NormalizeRelativePath, CollapsesEmptyAndDotComponents) {
  EXPECT_EQ(NormalizeRelativePath("a//b/./c"), "a/b/c");
  EXPECT_EQ(NormalizeRelativePath("a/b/"), "a/b");
  EXPECT_EQ(NormalizeRelativePath("./a"), "a");
  EXPECT_EQ(NormalizeRelativePath(""), "");
  EXPECT_EQ(NormalizeRelativePath("."), "");
  EXPECT_EQ(NormalizeRelativePath("./."), "");
}

TEST(NormalizeRelativePath, KeepsNamesThatOnlyLookLikeDots) {
  EXPECT_EQ(NormalizeRelativePath("..a/b..c/..."), "..a/b..c/...");
  EXPECT_EQ(NormalizeRelativePath(".hidden"), ".hidden");
  EXPECT_EQ(NormalizeRelativePath("with space/ü.txt"), "with space/ü.txt");
}

TEST(NormalizeRelativePath, RefusesParentComponents) {
  EXPECT_ERROR(NormalizeRelativePath("../x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '../x': it escapes its root folder"));
  EXPECT_ERROR(NormalizeRelativePath("a/../b"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a/../b': it escapes its root folder"));
  EXPECT_ERROR(NormalizeRelativePath(".."), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '..': it escapes its root folder"));
  EXPECT_ERROR(NormalizeRelativePath("a/.."), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a/..': it escapes its root folder"));
}

TEST(NormalizeRelativePath, RefusesAbsolutePaths) {
  EXPECT_ERROR(NormalizeRelativePath("/etc/passwd"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '/etc/passwd': it must be a relative path"));
  EXPECT_ERROR(NormalizeRelativePath("//x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '//x': it must be a relative path"));
}

TEST(NormalizeRelativePath, RefusesBackslashesAndNul) {
  EXPECT_ERROR(NormalizeRelativePath("a\\..\\b"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a\\..\\b': it contains a backslash"));
  EXPECT_ERROR(NormalizeRelativePath(std::string("a\0b", 3)), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a\\0b': it contains a NUL byte"));
}

TEST(NormalizeRelativePath, NamesTheKindOfPathWhenAsked) {
  EXPECT_ERROR(NormalizeRelativePath("../evil", "archive member"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid archive member '../evil': it escapes its root folder"));
}

TEST(ResolveUnder, JoinsTheNormalizedPathToTheRoot) {
  TempDir dir;
  EXPECT_EQ(ResolveUnder(dir.path(), "a//b/./c.txt"), dir.path() / "a/b/c.txt");
  EXPECT_EQ(ResolveUnder(dir.path(), ""), dir.path());
  EXPECT_EQ(ResolveUnder(dir.path(), "."), dir.path());
}

TEST(ResolveUnder, WorksForARootThatDoesNotExistYet) {
  TempDir dir;
  EXPECT_EQ(ResolveUnder(dir / "not/yet", "x/y"), dir.path() / "not/yet/x/y");
}

TEST(ResolveUnder, RefusesWhatNormalizeRelativePathRefuses) {
  TempDir dir;
  EXPECT_ERROR(ResolveUnder(dir.path(), "../x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '../x': it escapes its root folder"));
  EXPECT_ERROR(ResolveUnder(dir.path(), "/abs"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path '/abs': it must be a relative path"));
}

TEST(ResolveUnder, RefusesASymlinkInsideTheRootPointingOutside) {
  TempDir dir;
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "outside");
  fs::create_directory_symlink(dir / "outside", dir / "root/link");
  EXPECT_ERROR(
      ResolveUnder(dir / "root", "link/secret.txt"), ErrorCode::kInvalidParameterValue,
      Eq("Invalid artifact path 'link/secret.txt': it escapes its root folder through the "
         "symbolic link 'link'"));
  EXPECT_ERROR(ResolveUnder(dir / "root", "link"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'link': it escapes its root folder through the symbolic "
                  "link 'link'"));
}

TEST(ResolveUnder, RefusesARelativeSymlinkThatClimbsOut) {
  TempDir dir;
  fs::create_directories(dir / "root/a");
  fs::create_directory_symlink("../..", dir / "root/a/up");
  EXPECT_ERROR(ResolveUnder(dir / "root", "a/up/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a/up/x': it escapes its root folder through the "
                  "symbolic link 'a/up'"));
}

TEST(ResolveUnder, RefusesADanglingSymlinkToAFileOutside) {
  // Writing through it would create the file outside, although nothing exists there yet.
  TempDir dir;
  fs::create_directories(dir / "root");
  fs::create_symlink(dir / "outside.txt", dir / "root/out.txt");
  EXPECT_ERROR(ResolveUnder(dir / "root", "out.txt"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'out.txt': it escapes its root folder through the "
                  "symbolic link 'out.txt'"));
}

TEST(ResolveUnder, RefusesAChainOfLinksThatEndsOutside) {
  TempDir dir;
  fs::create_directories(dir / "root");
  fs::create_symlink("dangling", dir / "root/first");
  fs::create_symlink(dir / "elsewhere", dir / "root/dangling");
  EXPECT_ERROR(ResolveUnder(dir / "root", "first/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'first/x': it escapes its root folder through the "
                  "symbolic link 'first'"));
}

TEST(ResolveUnder, AllowsASymlinkThatStaysInsideTheRoot) {
  TempDir dir;
  fs::create_directories(dir / "root/real");
  fs::create_directory_symlink("real", dir / "root/alias");
  EXPECT_EQ(ResolveUnder(dir / "root", "alias/f.txt"), dir.path() / "root/alias/f.txt");
}

TEST(ResolveUnder, AllowsARootThatIsItselfASymlink) {
  TempDir dir;
  fs::create_directories(dir / "real-root/sub");
  fs::create_directory_symlink(dir / "real-root", dir / "root");
  EXPECT_EQ(ResolveUnder(dir / "root", "sub/f.txt"), dir.path() / "root/sub/f.txt");
}

TEST(ResolveUnder, RefusesASymlinkLoop) {
  TempDir dir;
  fs::create_directories(dir / "root");
  fs::create_symlink("b", dir / "root/a");
  fs::create_symlink("a", dir / "root/b");
  EXPECT_ERROR(ResolveUnder(dir / "root", "a/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'a/x': too many levels of symbolic links"));
}

TEST(ResolveUnder, DoesNotMistakeASiblingWithACommonPrefixForTheRoot) {
  TempDir dir;
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "root-other");
  fs::create_directory_symlink(dir / "root-other", dir / "root/link");
  EXPECT_ERROR(ResolveUnder(dir / "root", "link/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact path 'link/x': it escapes its root folder through the "
                  "symbolic link 'link'"));
}

}  // namespace
}  // namespace mltrack
