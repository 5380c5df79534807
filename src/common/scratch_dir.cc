#include "common/scratch_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(std::string_view prefix) {
  const fs::path base = fs::temp_directory_path();
  std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot create a temporary folder in '{}': {}",
                                                 base.string(), std::strerror(errno)));
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace mltrack
