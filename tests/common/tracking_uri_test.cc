#include "common/tracking_uri.h"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack {
namespace {

using ::testing::Eq;
using ::testing::HasSubstr;

constexpr const char* kAccepted =
    "; accepted forms are sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "http://host[:port] or https://host[:port]";

// Sets (or, with nullopt, unsets) an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ParseTrackingUri, SqliteWithThreeSlashesIsRelative) {
  TrackingUri uri = ParseTrackingUri("sqlite:///rel.db");
  EXPECT_EQ(uri.scheme, TrackingUri::Scheme::kSqlite);
  EXPECT_EQ(uri.sqlite_path, "rel.db");
  EXPECT_EQ(uri.uri, "sqlite:///rel.db");
  EXPECT_EQ(ParseTrackingUri("sqlite:///sub/dir/x.db").sqlite_path, "sub/dir/x.db");
}

TEST(ParseTrackingUri, SqliteWithFourSlashesIsAbsolute) {
  TrackingUri uri = ParseTrackingUri("sqlite:////abs/x.db");
  EXPECT_EQ(uri.scheme, TrackingUri::Scheme::kSqlite);
  EXPECT_EQ(uri.sqlite_path, "/abs/x.db");
}

TEST(ParseTrackingUri, TheDefaultParses) {
  EXPECT_EQ(ParseTrackingUri(kDefaultTrackingUri).sqlite_path, "mlruns.db");
}

TEST(ParseTrackingUri, RefusesSqliteWithoutADatabaseFile) {
  EXPECT_ERROR(ParseTrackingUri("sqlite://"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'sqlite://': it names no database file") +
                  kAccepted));
  EXPECT_ERROR(ParseTrackingUri("sqlite:///"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'sqlite:///': it names no database file") +
                  kAccepted));
}

TEST(ParseTrackingUri, RefusesSqliteWithAHost) {
  EXPECT_ERROR(ParseTrackingUri("sqlite://host/x.db"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'sqlite://host/x.db': a sqlite URI cannot "
                              "name a host ('host')") +
                  kAccepted));
  EXPECT_ERROR(ParseTrackingUri("sqlite://x.db"), ErrorCode::kInvalidParameterValue,
               HasSubstr("a sqlite URI cannot name a host ('x.db')"));
  EXPECT_ERROR(ParseTrackingUri("sqlite:x.db"), ErrorCode::kInvalidParameterValue,
               HasSubstr("a sqlite URI starts with 'sqlite://'"));
}

TEST(ParseTrackingUri, HttpAndHttpsAreRest) {
  for (const char* text : {"http://localhost:5000", "https://tracking.example.com",
                           "http://127.0.0.1:5000/", "https://user:pw@host:443/prefix",
                           "http://[::1]:5000", "HTTP://Host"}) {
    TrackingUri uri = ParseTrackingUri(text);
    EXPECT_EQ(uri.scheme, TrackingUri::Scheme::kHttp) << text;
    EXPECT_EQ(uri.uri, text);
    EXPECT_EQ(uri.sqlite_path, "") << text;
  }
}

TEST(ParseTrackingUri, RefusesHttpWithoutAHost) {
  EXPECT_ERROR(ParseTrackingUri("http://"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'http://': it names no host") + kAccepted));
  EXPECT_ERROR(ParseTrackingUri("https://:5000"), ErrorCode::kInvalidParameterValue,
               HasSubstr("it names no host"));
  EXPECT_ERROR(ParseTrackingUri("http:/x"), ErrorCode::kInvalidParameterValue,
               HasSubstr("it names no host"));
  EXPECT_ERROR(ParseTrackingUri("http:///path"), ErrorCode::kInvalidParameterValue,
               HasSubstr("it names no host"));
}

TEST(ParseTrackingUri, RefusesABadPort) {
  EXPECT_ERROR(ParseTrackingUri("http://host:http"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'http://host:http': its port 'http' is not "
                              "a number from 1 to 65535") +
                  kAccepted));
  EXPECT_ERROR(ParseTrackingUri("http://host:70000"), ErrorCode::kInvalidParameterValue,
               HasSubstr("its port '70000' is not a number"));
  EXPECT_ERROR(ParseTrackingUri("http://host:"), ErrorCode::kInvalidParameterValue,
               HasSubstr("its port '' is not a number"));
}

TEST(ParseTrackingUri, RefusesOtherSchemesNamingThemAndTheAcceptedForms) {
  EXPECT_ERROR(ParseTrackingUri("file:///tmp/mlruns"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'file:///tmp/mlruns': the scheme 'file' is "
                              "not supported") +
                  kAccepted));
  EXPECT_ERROR(ParseTrackingUri("postgresql://u@db/mlflow"), ErrorCode::kInvalidParameterValue,
               HasSubstr("the scheme 'postgresql' is not supported"));
  EXPECT_ERROR(ParseTrackingUri("databricks"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI 'databricks': it has no scheme") + kAccepted));
}

TEST(ParseTrackingUri, RefusesABarePath) {
  EXPECT_ERROR(ParseTrackingUri("./mlruns"), ErrorCode::kInvalidParameterValue,
               Eq(std::string("Invalid tracking URI './mlruns': it has no scheme") + kAccepted));
  EXPECT_ERROR(ParseTrackingUri("/abs/mlruns.db"), ErrorCode::kInvalidParameterValue,
               HasSubstr("it has no scheme"));
  EXPECT_ERROR(ParseTrackingUri(""), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid tracking URI '': it has no scheme"));
}

TEST(TrackingUriFromEnvironment, PrefersMltOverMlflow) {
  ScopedEnv mlt("MLT_TRACKING_URI", "sqlite:///mlt.db");
  ScopedEnv mlflow("MLFLOW_TRACKING_URI", "http://mlflow:5000");
  EXPECT_EQ(TrackingUriFromEnvironment(), "sqlite:///mlt.db");
}

TEST(TrackingUriFromEnvironment, FallsBackToMlflow) {
  ScopedEnv mlt("MLT_TRACKING_URI", std::nullopt);
  ScopedEnv mlflow("MLFLOW_TRACKING_URI", "http://mlflow:5000");
  EXPECT_EQ(TrackingUriFromEnvironment(), "http://mlflow:5000");
}

TEST(TrackingUriFromEnvironment, AnEmptyVariableCountsAsUnset) {
  ScopedEnv mlt("MLT_TRACKING_URI", "");
  ScopedEnv mlflow("MLFLOW_TRACKING_URI", "http://mlflow:5000");
  EXPECT_EQ(TrackingUriFromEnvironment(), "http://mlflow:5000");
  ScopedEnv mlflow_empty("MLFLOW_TRACKING_URI", "");
  EXPECT_EQ(TrackingUriFromEnvironment(), "sqlite:///mlruns.db");
}

TEST(TrackingUriFromEnvironment, DefaultsToSqliteInTheWorkingDirectory) {
  ScopedEnv mlt("MLT_TRACKING_URI", std::nullopt);
  ScopedEnv mlflow("MLFLOW_TRACKING_URI", std::nullopt);
  EXPECT_EQ(TrackingUriFromEnvironment(), "sqlite:///mlruns.db");
}

TEST(UriScheme, LowercasesTheSchemeAndLeavesPathsAlone) {
  EXPECT_EQ(UriScheme("file:///x"), "file");
  EXPECT_EQ(UriScheme("S3://bucket/x"), "s3");
  EXPECT_EQ(UriScheme("mlflow-artifacts:/1/abc"), "mlflow-artifacts");
  EXPECT_EQ(UriScheme("/abs/path"), "");
  EXPECT_EQ(UriScheme("rel/path:x"), "");
  EXPECT_EQ(UriScheme("C:/windows"), "");
  EXPECT_EQ(UriScheme(""), "");
}

TEST(LocalPathFromUri, DecodesFileUris) {
  EXPECT_EQ(LocalPathFromUri("file:///abs/path"), "/abs/path");
  EXPECT_EQ(LocalPathFromUri("file:/abs/path"), "/abs/path");
  EXPECT_EQ(LocalPathFromUri("file://localhost/abs/path"), "/abs/path");
  EXPECT_EQ(LocalPathFromUri("file:///with%20space/%C3%BC%2x"), "/with space/ü%2x");
}

TEST(LocalPathFromUri, ReturnsAPlainPathAsItIs) {
  EXPECT_EQ(LocalPathFromUri("/abs/with%20percent"), "/abs/with%20percent");
  EXPECT_EQ(LocalPathFromUri("relative/dir"), "relative/dir");
}

TEST(LocalPathFromUri, RefusesOtherSchemesAndHosts) {
  EXPECT_ERROR(LocalPathFromUri("s3://bucket/x"), ErrorCode::kInvalidParameterValue,
               Eq("'s3://bucket/x' is not a local path: only file: URIs and plain paths are"));
  EXPECT_ERROR(LocalPathFromUri("file://server/share/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid file URI 'file://server/share/x': it names the host 'server', not "
                  "this machine"));
  EXPECT_ERROR(LocalPathFromUri("file:///a%00b"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid file URI 'file:///a%00b': it contains an encoded NUL byte"));
}

TEST(FileUriFromPath, EncodesLikePathlibAsUri) {
  EXPECT_EQ(FileUriFromPath("/abs/path"), "file:///abs/path");
  EXPECT_EQ(FileUriFromPath("/with space/ü/a_b-c.d~"), "file:///with%20space/%C3%BC/a_b-c.d~");
  EXPECT_EQ(FileUriFromPath("/x%y"), "file:///x%25y");
}

TEST(FileUriFromPath, RoundTripsThroughLocalPathFromUri) {
  for (const char* path : {"/abs/path", "/with space/ü", "/x%20y", "/a#b?c"}) {
    EXPECT_EQ(LocalPathFromUri(FileUriFromPath(path)), path);
  }
}

TEST(FileUriFromPath, MakesARelativePathAbsolute) {
  EXPECT_EQ(FileUriFromPath("rel"),
            FileUriFromPath((std::filesystem::current_path() / "rel").string()));
}

}  // namespace
}  // namespace mltrack
