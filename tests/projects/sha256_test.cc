#include "projects/sha256.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::Eq;

// FIPS 180-2 appendix B and the NIST example values.
TEST(Sha256, MatchesTheStandardTestVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
                      "nopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, AMillionAsFedInOddPiecesGiveTheSameDigest) {
  std::string million(1000000, 'a');
  Sha256 hash;
  size_t offset = 0;
  for (size_t piece = 1; offset < million.size(); piece = piece * 7 % 127 + 1) {
    size_t n = std::min(piece, million.size() - offset);
    hash.Update(million.data() + offset, n);
    offset += n;
  }
  EXPECT_EQ(hash.Hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EveryLengthAroundThePaddingBoundariesMatchesCoreutils) {
  // Lengths 0..130 cover a message ending just before, at and after the 56-byte length field
  // of one and of two blocks; coreutils' sha256sum is an independent implementation.
  TempDir dir;
  std::string message;
  for (int length = 0; length <= 130; ++length) {
    WriteFile(dir / "m", message);
    auto run = RunProcess({"sha256sum", (dir / "m").string()});
    if (run.exit_code == 127 || run.out.empty()) GTEST_SKIP() << "sha256sum is not installed";
    EXPECT_EQ(Sha256Hex(message), run.out.substr(0, 64)) << "length " << length;
    message += static_cast<char>('0' + length % 75);
  }
}

TEST(Sha256, DigestIsTheBytesOfTheHex) {
  Sha256 a;
  a.Update("abc");
  auto digest = a.Digest();
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[31], 0xad);
}

TEST(FingerprintPath, OfAFileIsTheDigestOfItsBytes) {
  TempDir dir;
  WriteFile(dir / "data.csv", "x,y\n1,2\n");
  EXPECT_EQ(FingerprintPath(dir / "data.csv"), Sha256Hex("x,y\n1,2\n"));
}

TEST(FingerprintPath, OfAFolderIsTheDigestOfItsManifestInByteOrder) {
  // 'B' < 'a' and "a.txt" < "a/b" ('.' is 0x2e, '/' 0x2f): not the order a walk or a
  // locale-aware sort would give. An empty folder contributes nothing.
  TempDir dir;
  WriteFile(dir / "t" / "a.txt", "one");
  WriteFile(dir / "t" / "a" / "b", "two");
  WriteFile(dir / "t" / "B", "three");
  fs::create_directories(dir / "t" / "empty");
  std::string manifest = "B" + std::string(1, '\0') + Sha256Hex("three") + "\n" +
                         "a.txt" + std::string(1, '\0') + Sha256Hex("one") + "\n" +
                         "a/b" + std::string(1, '\0') + Sha256Hex("two") + "\n";
  EXPECT_EQ(FingerprintPath(dir / "t"), Sha256Hex(manifest));
}

class FolderFingerprint : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(root() / "train.csv", "a,b\n1,2\n");
    WriteFile(root() / "sub" / "test.csv", "a,b\n3,4\n");
    before_ = FingerprintPath(root());
  }
  fs::path root() const { return dir_ / "data"; }

  TempDir dir_;
  std::string before_;
};

TEST_F(FolderFingerprint, ChangesWhenOneByteChanges) {
  WriteFile(root() / "sub" / "test.csv", "a,b\n3,5\n");
  EXPECT_NE(FingerprintPath(root()), before_);
}

TEST_F(FolderFingerprint, ChangesWhenAFileIsRenamed) {
  fs::rename(root() / "train.csv", root() / "train2.csv");
  EXPECT_NE(FingerprintPath(root()), before_);
}

TEST_F(FolderFingerprint, ChangesWhenAFileIsAddedOrRemoved) {
  WriteFile(root() / "extra", "");
  std::string with_extra = FingerprintPath(root());
  EXPECT_NE(with_extra, before_);
  fs::remove(root() / "extra");
  EXPECT_EQ(FingerprintPath(root()), before_);
  fs::remove(root() / "train.csv");
  EXPECT_NE(FingerprintPath(root()), before_);
}

TEST_F(FolderFingerprint, IgnoresTimestamps) {
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 400);
  fs::last_write_time(root() / "train.csv", old);
  fs::last_write_time(root() / "sub", old);
  EXPECT_EQ(FingerprintPath(root()), before_);
}

TEST_F(FolderFingerprint, IsTheSameForTheSameTreeElsewhere) {
  fs::create_directories(dir_ / "elsewhere");
  fs::copy(root(), dir_ / "elsewhere" / "copy", fs::copy_options::recursive);
  EXPECT_EQ(FingerprintPath(dir_ / "elsewhere" / "copy"), before_);
}

TEST_F(FolderFingerprint, RecordsSymbolicLinksByTargetWithoutFollowing) {
  WriteFile(dir_ / "outside.csv", "secret\n");
  WriteFile(dir_ / "outside_dir" / "f", "x");
  fs::create_symlink("../outside.csv", root() / "link.csv");
  fs::create_directory_symlink("../outside_dir", root() / "linked_dir");
  std::string with_links = FingerprintPath(root());
  EXPECT_NE(with_links, before_);

  // The linked file's and folder's data are not part of the fingerprint...
  WriteFile(dir_ / "outside.csv", "changed\n");
  WriteFile(dir_ / "outside_dir" / "g", "y");
  EXPECT_EQ(FingerprintPath(root()), with_links);

  // ...their target text is, exactly as the manifest says.
  fs::remove(root() / "link.csv");
  fs::create_symlink("../outside.csv2", root() / "link.csv");
  EXPECT_NE(FingerprintPath(root()), with_links);
  fs::remove(root() / "linked_dir");
  fs::remove(root() / "link.csv");
  fs::create_symlink("target", root() / "l");
  fs::remove_all(root() / "sub");
  fs::remove(root() / "train.csv");
  std::string manifest = "l" + std::string(1, '\0') + "-> target\n";
  EXPECT_EQ(FingerprintPath(root()), Sha256Hex(manifest));
}

TEST(FingerprintPath, FollowsTheLinkItIsGiven) {
  TempDir dir;
  WriteFile(dir / "real.csv", "1,2\n");
  fs::create_symlink(dir / "real.csv", dir / "alias.csv");
  EXPECT_EQ(FingerprintPath(dir / "alias.csv"), Sha256Hex("1,2\n"));
}

TEST(FingerprintPath, SkipsFifosInAFolderAndRefusesOneGivenDirectly) {
  TempDir dir;
  WriteFile(dir / "d" / "f", "x");
  std::string before = FingerprintPath(dir / "d");
  ASSERT_EQ(::mkfifo((dir / "d" / "pipe").c_str(), 0600), 0);
  EXPECT_EQ(FingerprintPath(dir / "d"), before);  // and it did not block reading the fifo
  EXPECT_ERROR(FingerprintPath(dir / "d" / "pipe"), ErrorCode::kInvalidParameterValue,
               Eq("'" + (dir / "d" / "pipe").string() + "' is neither a file nor a folder"));
}

TEST(FingerprintPath, RefusesAPathThatDoesNotExist) {
  TempDir dir;
  EXPECT_ERROR(FingerprintPath(dir / "missing.csv"), ErrorCode::kInvalidParameterValue,
               Eq("No file or folder at '" + (dir / "missing.csv").string() + "'"));
  WriteFile(dir / "file", "x");
  EXPECT_ERROR(FingerprintPath(dir / "file" / "below"), ErrorCode::kInvalidParameterValue,
               Eq("No file or folder at '" + (dir / "file" / "below").string() + "'"));
  fs::create_symlink(dir / "nowhere", dir / "dangling");
  EXPECT_ERROR(FingerprintPath(dir / "dangling"), ErrorCode::kInvalidParameterValue,
               Eq("No file or folder at '" + (dir / "dangling").string() + "'"));
}

TEST(FingerprintPath, ReportsAFailedReadAsAnIoError) {
  // Reading one's own memory at address 0 fails with EIO, for root too.
  EXPECT_ERROR(FingerprintPath("/proc/self/mem"), ErrorCode::kIoError,
               Eq("Cannot read '/proc/self/mem': Input/output error"));
}

TEST(FingerprintPath, ReportsAnUnreadableFileAsAnIoError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  TempDir dir;
  WriteFile(dir / "d" / "locked", "x");
  fs::permissions(dir / "d" / "locked", fs::perms::none);
  EXPECT_ERROR(FingerprintPath(dir / "d"), ErrorCode::kIoError,
               Eq("Cannot read '" + (dir / "d" / "locked").string() + "': Permission denied"));
  EXPECT_ERROR(FingerprintPath(dir / "d" / "locked"), ErrorCode::kIoError,
               Eq("Cannot read '" + (dir / "d" / "locked").string() + "': Permission denied"));
}

}  // namespace
}  // namespace mltrack::projects
