#include "common/http_server_router.h"

#include <algorithm>
#include <set>

namespace mltrack::http::detail {

void Router::AddExact(const std::string& method, const std::string& path, Route route) {
  exact_[method][path] = std::move(route);
}

void Router::AddPrefix(const std::string& method, const std::string& prefix, Route route) {
  auto& list = prefixes_[method];
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const auto& entry) { return entry.first == prefix; });
  if (it != list.end()) {
    it->second = std::move(route);
    return;
  }
  list.emplace_back(prefix, std::move(route));
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

const Route* Router::Find(const std::string& method, const std::string& path) const {
  if (const Route* route = FindFor(method, path)) return route;
  if (method == "HEAD") return FindFor("GET", path);
  return nullptr;
}

std::vector<std::string> Router::MethodsFor(const std::string& path) const {
  std::set<std::string> methods;
  for (const auto& [method, routes] : exact_) {
    if (routes.count(path)) methods.insert(method);
  }
  for (const auto& [method, list] : prefixes_) {
    for (const auto& entry : list) {
      if (path.compare(0, entry.first.size(), entry.first) == 0) methods.insert(method);
    }
  }
  if (methods.count("GET")) methods.insert("HEAD");
  return {methods.begin(), methods.end()};
}

const Route* Router::FindFor(const std::string& method, const std::string& path) const {
  if (auto by_method = exact_.find(method); by_method != exact_.end()) {
    if (auto it = by_method->second.find(path); it != by_method->second.end()) {
      return &it->second;
    }
  }
  if (auto by_method = prefixes_.find(method); by_method != prefixes_.end()) {
    for (const auto& [prefix, route] : by_method->second) {
      if (path.compare(0, prefix.size(), prefix) == 0) return &route;
    }
  }
  return nullptr;
}

}  // namespace mltrack::http::detail
