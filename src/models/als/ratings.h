// Ratings as recommenders read them: MovieLens files as they come and any CSV with user, item
// and rating columns; external ids mapped to dense indices and back; the splits a recommender is
// evaluated with.
//
// Formats (RatingsFormat::kAuto picks one from the first line):
//   MovieLens 100k  u.data       user \t item \t rating \t timestamp, no header
//   MovieLens 1M    ratings.dat  user::item::rating::timestamp, no header
//   MovieLens 20M+  ratings.csv  header userId,movieId,rating,timestamp
//   CSV             a header naming the user, item, rating (and optionally timestamp) columns;
//                   by default the first of userId/user_id/user, movieId/itemId/item_id/item,
//                   rating, timestamp that exist (RatingsColumns overrides)
// User and item ids are integers; ratings are numbers; a timestamp, when present, an integer.
// Every error names the file and line: "ratings.dat: line 12: expected 4 fields separated by
// '::', found 3", "ratings.csv: line 5, column 'rating': 'x' is not a number".
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "models/data/split.h"
#include "models/dist/communicator.h"

namespace mltrack::als {

enum class RatingsFormat { kAuto, kMovieLens, kCsv };

struct RatingsColumns {
  std::string user;       // empty: the defaults above
  std::string item;
  std::string rating;
  std::string timestamp;  // empty: "timestamp" when present, else none
};

struct Ratings {
  std::string path;                 // for messages
  std::vector<int64_t> user;        // external ids
  std::vector<int64_t> item;
  std::vector<float> rating;
  std::vector<int64_t> timestamp;   // all 0 when the file has none
  std::vector<int64_t> line;        // 1-based source line of each rating (its global row id)
  bool has_timestamp = false;
  size_t size() const { return rating.size(); }
};

// Reads the ratings of shard `shard` of `num_shards` (byte ranges of the file cut at line starts,
// as data::ReadCsv does; the header is read by every shard). Throws Error(kInvalidParameterValue)
// naming the file and line; kResourceDoesNotExist for a missing file; an empty file (or one with
// a header only) is an error: "ratings.csv: the file holds no ratings".
Ratings ReadRatings(const std::filesystem::path& path, RatingsFormat format = RatingsFormat::kAuto,
                    const RatingsColumns& columns = {}, int shard = 0, int num_shards = 1);

// "movielens" -> kMovieLens, "csv" -> kCsv, "auto" -> kAuto; else Error naming the value.
RatingsFormat ParseRatingsFormat(const std::string& name);

// External ids to dense indices 0 .. size-1 (sorted by id) and back.
class IdMap {
 public:
  IdMap() = default;
  explicit IdMap(std::vector<int64_t> sorted_unique_ids);
  // The sorted union of `ids` over every rank (collective when `comm` has several ranks).
  static IdMap Build(std::span<const int64_t> ids, dist::Communicator& comm);

  size_t size() const { return ids_.size(); }
  // -1 for an id not in the map.
  int64_t Index(int64_t id) const;
  int64_t Id(size_t index) const { return ids_[index]; }
  const std::vector<int64_t>& ids() const { return ids_; }
  bool operator==(const IdMap& other) const { return ids_ == other.ids_; }

 private:
  std::vector<int64_t> ids_;
  // Index's lookup, built with the map: ids spanning few values (MovieLens') index a table of
  // positions (dense_, from dense_min_); others probe an open-addressing table of position + 1
  // (0: empty) by a hash of the id. Both empty: binary search.
  int64_t dense_min_ = 0;
  std::vector<int32_t> dense_;
  std::vector<uint32_t> slots_;
};

// The ratings at `positions`, in that order.
Ratings TakeRatings(const Ratings& ratings, std::span<const size_t> positions);

// A random split by a hash of (seed, line): independent of sharding (data::TrainTestSplit).
data::Split RandomSplit(const Ratings& ratings, double test_fraction, uint64_t seed);

// Per user, the k most recent ratings (by timestamp, then by line; without timestamps k chosen by
// a hash of (seed, line)) go to test, the rest to train; users with at most k ratings stay whole
// in train. Needs every rating of a user in `ratings` (one rank, or ratings grouped by user).
data::Split LeaveKOut(const Ratings& ratings, int k, uint64_t seed);

}  // namespace mltrack::als
