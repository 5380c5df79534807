// One page of a listing read from SQLite with MLflow's offset page tokens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/page_token.h"
#include "common/sqlite.h"
#include "mltrack/entities.h"

namespace mltrack::sqlite {

// Reads a page from `stmt`, whose SQL must end in `LIMIT <max_results + 1> OFFSET <offset>`:
// up to max_results rows go through `read_row(stmt)`; an extra row only tells that another page
// follows, and sets next_page_token. `reserve` pre-sizes the items (for large, fixed-size pages).
template <class T, class ReadRow>
Page<T> ReadPage(Statement& stmt, int max_results, int64_t offset, ReadRow&& read_row,
                 size_t reserve = 0) {
  Page<T> page;
  page.items.reserve(reserve);
  while (stmt.Step()) {
    if (page.items.size() == static_cast<size_t>(max_results)) {
      page.next_page_token = EncodePageToken(offset + max_results);
      break;
    }
    page.items.push_back(read_row(stmt));
  }
  return page;
}

}  // namespace mltrack::sqlite
