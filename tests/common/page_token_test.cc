#include "common/page_token.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mltrack {
namespace {

using ::testing::Eq;
using ::testing::HasSubstr;

TEST(PageToken, RoundTrips) {
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1000},
                         std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(DecodePageToken(EncodePageToken(offset)), offset) << offset;
  }
}

TEST(PageToken, AnEmptyTokenIsTheFirstPage) { EXPECT_EQ(DecodePageToken(""), 0); }

TEST(PageToken, IsBase64OfAnOffsetObjectAsMlflowMakesIt) {
  nlohmann::json body = nlohmann::json::parse(Base64Decode(EncodePageToken(42)));
  EXPECT_EQ(body, nlohmann::json({{"offset", 42}}));
  EXPECT_EQ(body.size(), 1u);
}

TEST(PageToken, ReadsTokensMadeByMlflow) {
  // Python: base64.b64encode(json.dumps({"offset": 10}).encode()) (note the space after ':').
  EXPECT_EQ(DecodePageToken("eyJvZmZzZXQiOiAxMH0="), 10);
  // MLflow's spacing, made here: the decoder reads JSON, not one exact byte string.
  EXPECT_EQ(DecodePageToken(Base64Encode("{\"offset\": 1000}")), 1000);
  // And makes them byte for byte as MLflow does.
  EXPECT_EQ(EncodePageToken(10), "eyJvZmZzZXQiOiAxMH0=");
  EXPECT_ERROR(DecodePageToken(Base64Encode("{\"offset\": 1.5}")),
               ErrorCode::kInvalidParameterValue, HasSubstr("Invalid page token"));
}

TEST(PageToken, RefusesGarbageWithTheExactMessage) {
  EXPECT_ERROR(DecodePageToken("not a token!"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid page token 'not a token!': it was not issued by this server"));
}

TEST(PageToken, RefusesBase64ThatIsNotAnOffsetObject) {
  for (std::string body : {"hello", "{}", "{\"offset\": \"5\"}", "{\"offset\": -1}", "[1]",
                           "{\"offset\": null}", "{\"offset\": 1"}) {
    std::string token = Base64Encode(body);
    EXPECT_ERROR(DecodePageToken(token), ErrorCode::kInvalidParameterValue,
                 Eq("Invalid page token '" + token + "': it was not issued by this server"));
  }
}

TEST(Base64, MatchesTheRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
}

TEST(Base64, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    std::string prefix = bytes.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(prefix)), prefix) << n;
  }
}

TEST(Base64, AcceptsTheUrlSafeAlphabet) {
  // 0xfb 0xff: "+/8=" in the standard alphabet, "-_8=" in the URL-safe one.
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64Decode("-_8="), "\xfb\xff");
}

TEST(Base64, RefusesCharactersOutsideTheAlphabet) {
  EXPECT_ERROR(Base64Decode("ab*d"), ErrorCode::kInvalidParameterValue,
               Eq("invalid base64 character '*'"));
}

}  // namespace
}  // namespace mltrack
