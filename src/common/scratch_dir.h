// A fresh, private folder for temporary files, removed with its content on destruction.
#pragma once

#include <filesystem>
#include <string_view>

namespace mltrack {

class ScratchDir {
 public:
  // Creates <system temp dir>/<prefix>-XXXXXX (mode 0700). Throws Error(kIoError) "Cannot create
  // a temporary folder in '<temp dir>': <reason>".
  explicit ScratchDir(std::string_view prefix = "mlt");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace mltrack
