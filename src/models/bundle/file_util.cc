#include "models/bundle/file_util.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"

namespace mltrack::models {

namespace fs = std::filesystem;

void WriteFileAtomically(const fs::path& path, std::string_view bytes) {
  AtomicFileWriter writer(path, fmt::format("Cannot write '{}'", path.string()));
  writer.Write(bytes.data(), bytes.size());
  writer.Commit();
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
