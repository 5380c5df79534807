// ASCII text helpers shared across mltrack: case folding for what is compared without regard to
// case (URI schemes, header names, type names, file extensions), and trimming of whitespace.
// Bytes outside ASCII are left as they are.
#pragma once

#include <string>
#include <string_view>

namespace mltrack {

// `text` with A-Z turned into a-z.
std::string AsciiLower(std::string_view text);

// `text` without the spaces, tabs, CRs and LFs at its start and end.
std::string TrimAsciiSpace(std::string_view text);

}  // namespace mltrack
