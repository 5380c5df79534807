// Internal to the HTTP server: the route table Server::Route and Server::RoutePrefix fill.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/http_server.h"

namespace mltrack::http::detail {

struct Route {
  Handler handler;
  RouteOptions options;
};

// Exact routes win over prefixes, longer prefixes over shorter ones; HEAD falls back to GET.
// Filled before the server starts, then only read (by several workers at once).
class Router {
 public:
  // The same method and path (or prefix) added again replaces the route.
  void AddExact(const std::string& method, const std::string& path, Route route);
  void AddPrefix(const std::string& method, const std::string& prefix, Route route);

  // The route that answers `method` on `path`; null when none does.
  const Route* Find(const std::string& method, const std::string& path) const;

  // The methods some route answers `path` with, for a 405's Allow header.
  std::vector<std::string> MethodsFor(const std::string& path) const;

 private:
  const Route* FindFor(const std::string& method, const std::string& path) const;

  std::map<std::string, std::map<std::string, Route>> exact_;
  std::map<std::string, std::vector<std::pair<std::string, Route>>> prefixes_;  // longest first
};

}  // namespace mltrack::http::detail
