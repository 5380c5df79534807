#include "models/bundle/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::models {

namespace fs = std::filesystem;

void WriteFileAtomically(const fs::path& path, std::string_view bytes) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string temp = (dir / fmt::format(".mlt-tmp-{}-XXXXXX", path.filename().string())).string();
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  auto fail = [&](std::string_view doing) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot {} '{}': {}", doing, path.string(), std::strerror(err)));
  };
  if (fd < 0) {
    int err = errno;
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot write '{}': {}", path.string(), std::strerror(err)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) fail("write");
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) fail("write");
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("write");
}

std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No such file: '{}'", path.string()));
    }
    throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", path.string()));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}'", path.string()));
  return std::move(buffer).str();
}

}  // namespace mltrack::models
