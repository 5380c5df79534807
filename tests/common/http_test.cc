// The HTTP server and client facades, against each other on ephemeral loopback ports, and the
// server against raw sockets for what a well-behaved client never sends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/http_client.h"
#include "common/http_server.h"
#include "support/test_support.h"

namespace mltrack::http {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ConnectLoopback;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::ReadUntilClosed;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

std::string ErrorJson(std::string_view code, std::string_view message) {
  return fmt::format(R"({{"error_code":"{}","message":"{}"}})", code, message);
}

ClientOptions TestClientOptions() {
  ClientOptions options;
  options.connect_timeout = 2000ms;
  options.read_timeout = 10000ms;
  options.max_attempts = 1;
  options.first_backoff = 1ms;
  return options;
}

// A server with the routes `setup` adds, serving on an ephemeral loopback port.
class TestServer {
 public:
  explicit TestServer(const std::function<void(Server&)>& setup, ServerOptions options = {})
      : server_(options) {
    setup(server_);
    port_ = server_.Start();
  }
  Server& server() { return server_; }
  int port() const { return port_; }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  Server server_;
  int port_ = 0;
};

Handler Text(std::string body) {
  return [body](const Request&, Response& response) {
    response.content_type = "text/plain";
    response.body = body;
  };
}

Handler Echo() {
  return [](const Request& request, Response& response) {
    response.content_type = "text/plain";
    response.body = request.body;
  };
}

// Sends `bytes` on a new connection, then reads until the server closes it (5 s at most).
std::string RawExchange(int port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "(cannot connect)";
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string reply = ReadUntilClosed(fd, 5s);
  ::close(fd);
  return reply;
}

// Sends `bytes` on a new connection and closes it without waiting for an answer.
void SendAndClose(int port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::close(fd);
}

std::string Chunked(const std::string& body, size_t chunk) {
  std::string out;
  for (size_t at = 0; at < body.size(); at += chunk) {
    std::string piece = body.substr(at, chunk);
    out += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
  }
  return out + "0\r\n\r\n";
}

uint64_t Fnv1a(uint64_t hash, const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ULL;
  }
  return hash;
}
constexpr uint64_t kFnvBasis = 14695981039346656037ULL;

uint64_t FileHash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  uint64_t hash = kFnvBasis;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash = Fnv1a(hash, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return hash;
}

// Deterministic bytes that do not repeat with any short period.
std::string PseudoRandomBytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed | 1;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(out.data() + i, &x, std::min<size_t>(8, size - i));
  }
  return out;
}

// --- routing -------------------------------------------------------------------------------------

TEST(HttpServer, ExactRoutesAnswerTheirMethod) {
  TestServer server([](Server& s) {
    s.Route("GET", "/a", Text("get a"));
    s.Route("POST", "/a", Echo());
  });
  Client client(server.url(), TestClientOptions());
  Result get = client.Get("/a");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "get a");
  EXPECT_EQ(get.content_type, "text/plain");
  Result post = client.Send("POST", "/a", "posted", "text/plain", false);
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "posted");
  EXPECT_EQ(client.Get("/a/").status, 404);  // exact means exact
}

TEST(HttpServer, HeadIsAnsweredByTheGetRouteWithoutTheBody) {
  TestServer server([](Server& s) {
    s.Route("GET", "/a", [](const Request& request, Response& response) {
      response.headers.emplace_back("X-Method", request.method);
      response.content_type = "text/plain";
      response.body = "12345";
    });
  });
  std::string reply =
      RawExchange(server.port(), "HEAD /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("\r\nContent-Length: 5\r\n"));
  EXPECT_THAT(reply, HasSubstr("\r\nX-Method: HEAD\r\n"));
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), "");
}

TEST(HttpServer, LongerPrefixWinsAndExactBeatsPrefix) {
  auto named = [](std::string name) {
    return [name](const Request& request, Response& response) {
      response.body = name + ":" + request.path;
    };
  };
  TestServer server([&](Server& s) {
    s.RoutePrefix("GET", "/files/", named("short"));
    s.RoutePrefix("GET", "/files/deep/", named("long"));
    s.Route("GET", "/files/deep/exact", named("exact"));
  });
  Client client(server.url(), TestClientOptions());
  EXPECT_EQ(client.Get("/files/x").body, "short:/files/x");
  EXPECT_EQ(client.Get("/files/deep/y/z").body, "long:/files/deep/y/z");
  EXPECT_EQ(client.Get("/files/deep/exact").body, "exact:/files/deep/exact");
  EXPECT_EQ(client.Get("/files/deep/exact/more").body, "long:/files/deep/exact/more");
  // The path reaches the handler decoded.
  EXPECT_EQ(client.Get("/files/a%20b%2Fc").body, "short:/files/a b/c");
}

TEST(HttpServer, UnknownPathIs404WithJsonBody) {
  TestServer server([](Server& s) { s.Route("GET", "/a", Text("a")); });
  Client client(server.url(), TestClientOptions());
  Result result = client.Get("/nowhere?x=1");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.content_type, "application/json");
  EXPECT_EQ(result.body, ErrorJson("ENDPOINT_NOT_FOUND", "No endpoint for GET /nowhere"));
}

TEST(HttpServer, WrongMethodIs405WithJsonBody) {
  TestServer server([](Server& s) {
    s.Route("GET", "/only-read", Text("a"));
    s.RoutePrefix("PUT", "/only-", Echo());
  });
  Client client(server.url(), TestClientOptions());
  Result result = client.Send("POST", "/only-read", "{}", "application/json", false);
  EXPECT_EQ(result.status, 405);
  EXPECT_EQ(result.content_type, "application/json");
  EXPECT_EQ(result.body, ErrorJson("BAD_REQUEST",
                                   "Method POST is not allowed for /only-read; allowed: GET, "
                                   "HEAD, PUT"));
  std::string reply = RawExchange(
      server.port(), "DELETE /only-read HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(reply, HasSubstr("\r\nAllow: GET, HEAD, PUT\r\n"));
}

TEST(HttpServer, SetNotFoundAnswersUnroutedRequests) {
  TestServer server([](Server& s) {
    s.SetNotFound([](const Request& request, Response& response) {
      response.status = 404;
      response.content_type = "text/html";
      response.body = "<p>no " + request.path + "</p>";
    });
  });
  Client client(server.url(), TestClientOptions());
  Result result = client.Get("/missing");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.content_type, "text/html");
  EXPECT_EQ(result.body, "<p>no /missing</p>");
}

// --- the error wrapper ---------------------------------------------------------------------------

TEST(HttpServer, ErrorBecomesItsStatusAndMlflowBody) {
  TestServer server([](Server& s) {
    s.Route("GET", "/missing-run", [](const Request&, Response&) {
      throw Error(ErrorCode::kResourceDoesNotExist, "Run with id=abc not found");
    });
    s.Route("POST", "/exists", [](const Request&, Response& response) {
      response.body = "half-written";
      throw Error(ErrorCode::kResourceAlreadyExists, "Experiment 'x' already exists.");
    });
  });
  Client client(server.url(), TestClientOptions());
  Result missing = client.Get("/missing-run");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.content_type, "application/json");
  EXPECT_EQ(missing.body, ErrorJson("RESOURCE_DOES_NOT_EXIST", "Run with id=abc not found"));
  Result exists = client.Send("POST", "/exists", "{}", "application/json", false);
  EXPECT_EQ(exists.status, 400);  // as MLflow answers RESOURCE_ALREADY_EXISTS
  EXPECT_EQ(exists.body, ErrorJson("RESOURCE_ALREADY_EXISTS", "Experiment 'x' already exists."));
}

TEST(HttpServer, OtherExceptionsBecome500AndTheServerKeepsServing) {
  TestServer server([](Server& s) {
    s.Route("GET", "/std", [](const Request&, Response&) { throw std::runtime_error("boom"); });
    s.Route("GET", "/int", [](const Request&, Response&) { throw 42; });
    s.Route("GET", "/ok", Text("still here"));
  });
  Client client(server.url(), TestClientOptions());
  for (int round = 0; round < 3; ++round) {
    Result std_error = client.Get("/std");
    EXPECT_EQ(std_error.status, 500);
    EXPECT_EQ(std_error.body, ErrorJson("INTERNAL_ERROR", "boom"));
    Result unknown = client.Get("/int");
    EXPECT_EQ(unknown.status, 500);
    EXPECT_EQ(unknown.body, ErrorJson("INTERNAL_ERROR",
                                      "Internal error: the handler threw an unknown exception"));
    Result ok = client.Get("/ok");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "still here");
  }
}

// --- requests ------------------------------------------------------------------------------------

TEST(HttpServer, QueryKeepsRepeatedKeysDecodedAndHeadersAreLowerCased) {
  Request seen;
  TestServer server([&](Server& s) {
    s.Route("GET", "/q", [&](const Request& request, Response& response) {
      seen = request;
      response.body = "ok";
    });
  });
  ClientOptions options = TestClientOptions();
  options.headers = {{"X-Custom-Thing", "Value 1"}};
  Client client(server.url(), options);
  std::string query = QueryString(
      {{"experiment_ids", "1"}, {"experiment_ids", "2"}, {"filter", "params.model = 'a b'&x"},
       {"order_by", "name"}, {"order_by", "name"}});
  ASSERT_EQ(client.Get("/q" + query + "&plus=a+b").status, 200);
  EXPECT_THAT(seen.QueryAll("experiment_ids"), ElementsAre("1", "2"));
  // An identical repeat is kept too (MLflow refuses a duplicate order_by).
  EXPECT_THAT(seen.QueryAll("order_by"), ElementsAre("name", "name"));
  EXPECT_EQ(seen.Query("experiment_ids"), "1");
  EXPECT_EQ(seen.Query("filter"), "params.model = 'a b'&x");
  EXPECT_EQ(seen.Query("plus"), "a b");
  EXPECT_EQ(seen.Query("absent"), std::nullopt);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/q");
  EXPECT_EQ(seen.headers.count("x-custom-thing"), 1u);
  EXPECT_EQ(seen.Header("X-CUSTOM-THING"), "Value 1");
  EXPECT_EQ(seen.Header("absent"), "");
  EXPECT_EQ(seen.remote_addr, "127.0.0.1");
  EXPECT_TRUE(seen.body.empty());
}

// --- body limits ---------------------------------------------------------------------------------

TEST(HttpServer, BufferedRouteRefusesBodyOverItsLimitWith400) {
  TestServer server([](Server& s) {
    s.Route("POST", "/default", Echo());
    s.Route("POST", "/small", Echo(), {.max_body_bytes = 1000});
  });
  Client client(server.url(), TestClientOptions());
  Result large = client.Send("POST", "/default", std::string(2'000'000, 'x'), "text/plain", false);
  EXPECT_EQ(large.status, 400);
  EXPECT_EQ(large.body,
            ErrorJson("INVALID_PARAMETER_VALUE",
                      "Request body of 2000000 bytes exceeds the limit of 1048576 bytes"));
  Result over = client.Send("POST", "/small", std::string(1001, 'y'), "text/plain", false);
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.body, ErrorJson("INVALID_PARAMETER_VALUE",
                                 "Request body of 1001 bytes exceeds the limit of 1000 bytes"));
  Result at_limit = client.Send("POST", "/small", std::string(1000, 'z'), "text/plain", false);
  EXPECT_EQ(at_limit.status, 200);
  EXPECT_EQ(at_limit.body, std::string(1000, 'z'));
}

TEST(HttpServer, BufferedRouteCountsAChunkedBody) {
  TestServer server([](Server& s) { s.Route("POST", "/small", Echo(), {.max_body_bytes = 1000}); });
  std::string reply = RawExchange(
      server.port(),
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          Chunked(std::string(3000, 'c'), 700));
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(reply, HasSubstr(ErrorJson("INVALID_PARAMETER_VALUE",
                                         "Request body of 3000 bytes exceeds the limit of 1000 "
                                         "bytes")));
  std::string small = RawExchange(
      server.port(),
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          Chunked(std::string(900, 'd'), 100));
  EXPECT_THAT(small, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(small, HasSubstr(std::string(900, 'd')));
}

Handler SaveUpload(const fs::path& dest, std::atomic<int>* calls = nullptr) {
  return [dest, calls](const Request& request, Response& response) {
    if (calls != nullptr) ++*calls;
    std::ofstream out(dest, std::ios::binary | std::ios::trunc);
    uint64_t hash = kFnvBasis;
    uint64_t bytes = 0;
    bool ok = request.read_body([&](const char* data, size_t size) {
      out.write(data, static_cast<std::streamsize>(size));
      hash = Fnv1a(hash, data, size);
      bytes += size;
      return static_cast<bool>(out);
    });
    if (!ok) throw Error(ErrorCode::kIoError, "upload cut short");
    EXPECT_TRUE(request.body.empty());
    response.content_type = "text/plain";
    response.body = fmt::format("{} {:x}", bytes, hash);
  };
}

TEST(HttpServer, StreamingRouteRefusesBodyOverItsLimitWith413) {
  TempDir dir;
  TestServer server([&](Server& s) {
    s.RoutePrefix("PUT", "/upload/", SaveUpload(dir / "received"),
                  {.max_body_bytes = 1000, .stream_body = true});
  });
  WriteFile(dir / "big", std::string(5000, 'b'));
  Client client(server.url(), TestClientOptions());
  Result result = client.PutFile("/upload/big", dir / "big");
  EXPECT_EQ(result.status, 413);
  EXPECT_EQ(result.body, ErrorJson("RESOURCE_LIMIT_EXCEEDED",
                                   "Request body of 5000 bytes exceeds the limit of 1000 bytes"));
  // A chunked body has no length to refuse up front: the route stops at the limit.
  std::string reply =
      RawExchange(server.port(),
                  "PUT /upload/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Connection: close\r\n\r\n" +
                      Chunked(std::string(1500, 'c'), 400));
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(reply, HasSubstr(ErrorJson("RESOURCE_LIMIT_EXCEEDED",
                                         "Request body of 1500 bytes exceeds the limit of 1000 "
                                         "bytes")));
  WriteFile(dir / "fits", std::string(1000, 'f'));
  Result fits = client.PutFile("/upload/fits", dir / "fits");
  EXPECT_EQ(fits.status, 200);
  EXPECT_EQ(ReadFile(dir / "received"), std::string(1000, 'f'));
}

// --- streaming -----------------------------------------------------------------------------------

TEST(HttpServer, PutFileStreamsA50MbUploadToDiskIntact) {
  TempDir dir;
  std::atomic<int> calls{0};
  TestServer server([&](Server& s) {
    s.RoutePrefix("PUT", "/upload/", SaveUpload(dir / "received", &calls),
                  {.max_body_bytes = size_t{1} << 30, .stream_body = true});
  });
  const size_t kSize = 50u << 20;
  {
    std::ofstream out(dir / "sent", std::ios::binary);
    for (size_t block = 0; block < kSize / (1 << 20); ++block) {
      std::string bytes = PseudoRandomBytes(1 << 20, block + 1);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
  uint64_t sent_hash = FileHash(dir / "sent");
  Client client(server.url(), TestClientOptions());
  Result result = client.PutFile("/upload/model.bin", dir / "sent");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.body, fmt::format("{} {:x}", kSize, sent_hash));
  EXPECT_EQ(fs::file_size(dir / "received"), kSize);
  EXPECT_EQ(FileHash(dir / "received"), sent_hash);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, GetToFileWritesStreamedBodiesWithAndWithoutLength) {
  const std::string payload = PseudoRandomBytes(3'000'017, 7);
  TestServer server([&](Server& s) {
    s.Route("GET", "/sized", [&](const Request&, Response& response) {
      response.content_type = "application/octet-stream";
      response.stream_length = payload.size();
      response.stream = [&](const ChunkSink& sink) {
        for (size_t at = 0; at < payload.size(); at += 65536) {
          if (!sink(payload.data() + at, std::min<size_t>(65536, payload.size() - at))) {
            return false;
          }
        }
        return true;
      };
    });
    s.Route("GET", "/chunked", [&](const Request&, Response& response) {
      response.content_type = "application/octet-stream";
      response.stream = [&](const ChunkSink& sink) {
        for (size_t at = 0; at < payload.size(); at += 100'000) {
          if (!sink(payload.data() + at, std::min<size_t>(100'000, payload.size() - at))) {
            return false;
          }
        }
        return true;
      };
    });
  });
  TempDir dir;
  Client client(server.url(), TestClientOptions());
  Result sized = client.GetToFile("/sized", dir / "new" / "folder" / "sized.bin");
  EXPECT_EQ(sized.status, 200);
  EXPECT_EQ(sized.content_type, "application/octet-stream");
  EXPECT_TRUE(ReadFile(dir / "new" / "folder" / "sized.bin") == payload);
  Result chunked = client.GetToFile("/chunked", dir / "chunked.bin");
  EXPECT_EQ(chunked.status, 200);
  EXPECT_TRUE(ReadFile(dir / "chunked.bin") == payload);
  // The same through Get, into memory.
  EXPECT_TRUE(client.Get("/chunked").body == payload);
  // Nothing but the downloads is left beside them.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("chunked.bin", "new"));
}

TEST(HttpServer, GetToFileOnAnErrorStatusWritesNothing) {
  TestServer server([](Server& s) {
    s.RoutePrefix("GET", "/artifacts/", [](const Request& request, Response&) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No such artifact: {}", request.path.substr(11)));
    });
  });
  TempDir dir;
  WriteFile(dir / "keep.txt", "old");
  Client client(server.url(), TestClientOptions());
  Result result = client.GetToFile("/artifacts/model.pkl", dir / "model.pkl");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.content_type, "application/json");
  EXPECT_EQ(result.body, ErrorJson("RESOURCE_DOES_NOT_EXIST", "No such artifact: model.pkl"));
  Result over_existing = client.GetToFile("/artifacts/keep.txt", dir / "keep.txt");
  EXPECT_EQ(over_existing.status, 404);
  EXPECT_EQ(ReadFile(dir / "keep.txt"), "old");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ElementsAre("keep.txt"));  // no temporary file left behind
  EXPECT_FALSE(fs::exists(dir / "sub"));
  EXPECT_EQ(client.GetToFile("/artifacts/x", dir / "sub" / "x").status, 404);
  EXPECT_FALSE(fs::exists(dir / "sub"));  // folders are made for a download only
}

// --- client --------------------------------------------------------------------------------------

// Accepts connections, reads each one's request and hangs up without answering, counting them:
// every request to it fails in transport after connecting.
class HangUpListener {
 public:
  HangUpListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(fd_, 16);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd entry{fd_, POLLIN, 0};
        if (::poll(&entry, 1, 10) > 0) AcceptOne();
      }
    });
  }
  ~HangUpListener() { Stop(); }

  // Stops and returns how many connections arrived.
  int Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
      pollfd entry{fd_, POLLIN, 0};
      while (::poll(&entry, 1, 0) > 0) AcceptOne();
      ::close(fd_);
    }
    return accepted_;
  }
  int port() const { return port_; }

 private:
  void AcceptOne() {
    int connection = ::accept(fd_, nullptr, nullptr);
    if (connection < 0) return;
    // Read what the client sends (its request) until it pauses, so that closing sends a FIN
    // after the request rather than a reset during it.
    pollfd entry{connection, POLLIN, 0};
    char buffer[4096];
    while (::poll(&entry, 1, 50) > 0 && ::recv(connection, buffer, sizeof(buffer), 0) > 0) {
    }
    ::close(connection);
    ++accepted_;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST(HttpClient, RetriesIdempotentRequestsWithBackoffThenThrows) {
  HangUpListener listener;
  ClientOptions options = TestClientOptions();
  options.max_attempts = 3;
  options.first_backoff = 5ms;
  Client client(fmt::format("http://127.0.0.1:{}", listener.port()), options);
  auto started = std::chrono::steady_clock::now();
  EXPECT_ERROR(client.Get("/api/2.0/mlflow/runs/get?run_id=1"), ErrorCode::kTemporarilyUnavailable,
               Eq(fmt::format("cannot reach http://127.0.0.1:{}/api/2.0/mlflow/runs/get: the "
                              "connection closed or timed out before a complete response",
                              listener.port())));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 15ms);  // slept 5 ms, then 10 ms
  EXPECT_EQ(listener.Stop(), 3);
}

TEST(HttpClient, DoesNotRetryARequestNotMarkedIdempotent) {
  HangUpListener listener;
  ClientOptions options = TestClientOptions();
  options.max_attempts = 3;
  Client client(fmt::format("http://127.0.0.1:{}", listener.port()), options);
  EXPECT_ERROR(
      client.Send("POST", "/api/2.0/mlflow/runs/create", "{}", "application/json", false),
      ErrorCode::kTemporarilyUnavailable,
      HasSubstr(fmt::format("cannot reach http://127.0.0.1:{}/api/2.0/mlflow/runs/create: ",
                            listener.port())));
  EXPECT_EQ(listener.Stop(), 1);
}

TEST(HttpClient, RefusedConnectionNamesTheUrlAndTheReason) {
  // A bound socket that does not listen: the port is taken, and connecting to it is refused.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ClientOptions options = TestClientOptions();
  options.max_attempts = 2;
  Client client(fmt::format("http://127.0.0.1:{}/", port), options);
  EXPECT_EQ(client.base_url(), fmt::format("http://127.0.0.1:{}", port));
  EXPECT_ERROR(client.Get("/api/2.0/mlflow/runs/get"), ErrorCode::kTemporarilyUnavailable,
               Eq(fmt::format("cannot reach http://127.0.0.1:{}/api/2.0/mlflow/runs/get: "
                              "Connection refused",
                              port)));
  ::close(fd);
}

TEST(HttpClient, HttpsToAPlainServerFailsAsTransport) {
  TestServer server([](Server& s) { s.Route("GET", "/x", Text("x")); });
  ClientOptions options = TestClientOptions();
  options.connect_timeout = 300ms;  // bounds the handshake, which the server never answers
  Client client(fmt::format("https://127.0.0.1:{}", server.port()), options);
  EXPECT_ERROR(
      client.Get("/x"), ErrorCode::kTemporarilyUnavailable,
      Eq(fmt::format("cannot reach https://127.0.0.1:{}/x: TLS handshake failed", server.port())));
}

TEST(HttpClient, RefusesUrlsItCannotUse) {
  EXPECT_ERROR(Client("ftp://host/x"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid HTTP URL 'ftp://host/x': expected http:// or https://"));
  EXPECT_ERROR(Client("http://:80"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid HTTP URL 'http://:80': no host"));
  EXPECT_ERROR(Client("http://host:99999"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid HTTP URL 'http://host:99999': invalid port"));
}

TEST(HttpClient, SendsRequestsUnderTheBaseUrlPath) {
  TestServer server([](Server& s) {
    s.Route("GET", "/prefix/api/x", [](const Request& request, Response& response) {
      response.body = request.Query("q").value_or("-");
    });
  });
  Client client(server.url() + "/prefix/", TestClientOptions());
  EXPECT_EQ(client.base_url(), server.url() + "/prefix");
  EXPECT_EQ(client.Get("/api/x?q=1").body, "1");
}

TEST(HttpClient, OneClientServesSixteenThreadsAtOnce) {
  std::atomic<int> calls{0};
  TestServer server([&](Server& s) {
    s.Route("POST", "/echo", [&](const Request& request, Response& response) {
      ++calls;
      response.body = request.body;
    });
  });
  Client client(server.url(), TestClientOptions());
  constexpr int kThreads = 16, kRequests = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        std::string body = fmt::format("thread {} request {}", t, i);
        Result result = client.Send("POST", "/echo", body, "text/plain", false);
        if (result.status != 200 || result.body != body) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(calls.load(), kThreads * kRequests);
}

TEST(HttpHelpers, QueryStringAndUrlEncode) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"a", "1"}, {"b", "x y"}}), "?a=1&b=x%20y");
  EXPECT_EQ(QueryString({{"id", "1"}, {"id", "2"}}), "?id=1&id=2");
  EXPECT_EQ(QueryString({{"f", "a=b&c+d/é"}}), "?f=a%3Db%26c%2Bd%2F%C3%A9");
  EXPECT_EQ(UrlEncode("dir/file name.txt"), "dir%2Ffile%20name.txt");
  EXPECT_EQ(UrlEncode("dir/file name.txt", /*keep_slash=*/true), "dir/file%20name.txt");
  EXPECT_EQ(UrlEncode("AZaz09-_.~"), "AZaz09-_.~");
}

// --- lifecycle and robustness --------------------------------------------------------------------

TEST(HttpServer, StopLetsARequestInFlightFinish) {
  std::promise<void> entered;
  ServerOptions options;
  options.keep_alive_timeout = std::chrono::seconds(60);
  TestServer server(
      [&](Server& s) {
        s.Route("GET", "/slow", [&](const Request&, Response& response) {
          entered.set_value();
          std::this_thread::sleep_for(300ms);
          response.body = "done";
        });
        s.Route("GET", "/fast", Text("fast"));
      },
      options);
  // A kept-alive idle connection must not hold Stop() for its 60 s timeout.
  Client idle(server.url(), TestClientOptions());
  ASSERT_EQ(idle.Get("/fast").status, 200);

  Client client(server.url(), TestClientOptions());
  auto slow = std::async(std::launch::async, [&] { return client.Get("/slow"); });
  entered.get_future().wait();
  std::atomic<bool> waited{false};
  std::thread waiter([&] {
    server.server().Wait();
    waited = true;
  });
  auto stop_started = std::chrono::steady_clock::now();
  server.server().Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 30s);
  Result result = slow.get();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "done");
  waiter.join();
  EXPECT_TRUE(waited);
  server.server().Stop();  // idempotent
  EXPECT_ERROR(client.Get("/fast"), ErrorCode::kTemporarilyUnavailable,
               HasSubstr("Connection refused"));
}

TEST(HttpServer, SurvivesMalformedRequests) {
  TestServer server([](Server& s) {
    s.Route("POST", "/echo", Echo());
    s.Route("GET", "/ok", Text("ok"));
  });
  EXPECT_THAT(RawExchange(server.port(), "GARBAGE\r\n\r\n"),
              AllOf(StartsWith("HTTP/1.1 400 "),
                    HasSubstr(ErrorJson("BAD_REQUEST", "Malformed HTTP request"))));
  EXPECT_THAT(RawExchange(server.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nhello"),
              AllOf(StartsWith("HTTP/1.1 400 "),
                    HasSubstr(ErrorJson("BAD_REQUEST", "Invalid Content-Length header 'abc'"))));
  EXPECT_THAT(RawExchange(server.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nhello"),
              AllOf(StartsWith("HTTP/1.1 400 "),
                    HasSubstr(ErrorJson("BAD_REQUEST", "Invalid Content-Length header '-1'"))));
  EXPECT_THAT(RawExchange(server.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Content-Length: 6\r\n\r\nhello"),
              StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(RawExchange(server.port(),
                          "GET /ok HTTP/1.1\r\nHost: x\r\n" + std::string(20000, 'h') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 400 "));
  // A body promised and never sent, a request cut off, bytes that are not HTTP at all.
  SendAndClose(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
  SendAndClose(server.port(), "GET /o");
  SendAndClose(server.port(), std::string("\x16\x03\x01\x00\xff\x00\x00\x00\r\n\r\n", 12));
  // A POST without Content-Length has no body (HTTP/1.1), rather than one read until EOF.
  EXPECT_THAT(
      RawExchange(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      StartsWith("HTTP/1.1 200 "));

  Client client(server.url(), TestClientOptions());
  EXPECT_EQ(client.Get("/ok").body, "ok");
  EXPECT_EQ(client.Send("POST", "/echo", "fine", "text/plain", false).body, "fine");
}

TEST(HttpServer, StartOnAPortInUseThrowsIoError) {
  TestServer first([](Server& s) { s.Route("GET", "/", Text("first")); });
  EXPECT_GT(first.port(), 0);
  EXPECT_EQ(first.server().port(), first.port());
  ServerOptions options;
  options.port = first.port();
  Server second(options);
  EXPECT_ERROR(
      second.Start(), ErrorCode::kIoError,
      Eq(fmt::format("cannot listen on 127.0.0.1:{}: Address already in use", first.port())));
  Client client(first.url(), TestClientOptions());
  EXPECT_EQ(client.Get("/").body, "first");
}

TEST(HttpServer, IdleKeptAliveConnectionsMakeRoomForWaitingOnes) {
  ServerOptions options;
  options.threads = 2;
  options.keep_alive_timeout = std::chrono::seconds(60);
  TestServer server([](Server& s) { s.Route("GET", "/x", Text("x")); }, options);
  // Each client keeps its own connection alive; three connections, two workers. Without room
  // made, the third would wait for the 60 s keep-alive timeout: both its attempts time out.
  ClientOptions client_options = TestClientOptions();
  client_options.read_timeout = 3000ms;
  client_options.max_attempts = 2;  // a GET may meet its connection closed under it
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server.url(), client_options));
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& client : clients) EXPECT_EQ(client->Get("/x").body, "x");
  }
}

TEST(HttpServer, BusyConnectionsMakeRoomForWaitingOnes) {
  ServerOptions options;
  options.threads = 2;
  TestServer server([](Server& s) { s.Route("GET", "/x", Text("x")); }, options);
  // Two clients keep both workers busy with requests back to back; a third must still be served.
  std::atomic<bool> stop{false};
  std::atomic<int> hog_requests[2] = {0, 0};
  std::atomic<int> hog_failures{0};
  std::vector<std::thread> hogs;
  for (int i = 0; i < 2; ++i) {
    hogs.emplace_back([&, i] {
      ClientOptions hog_options = TestClientOptions();
      hog_options.max_attempts = 2;
      Client hog(server.url(), hog_options);
      while (!stop) {
        try {
          if (hog.Get("/x").status == 200) ++hog_requests[i];
        } catch (const Error&) {
          ++hog_failures;
        }
      }
    });
  }
  while (hog_requests[0] == 0 || hog_requests[1] == 0) std::this_thread::sleep_for(1ms);
  ClientOptions client_options = TestClientOptions();
  client_options.read_timeout = 3000ms;
  Client client(server.url(), client_options);
  std::string body;
  try {
    body = client.Get("/x").body;
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
  stop = true;
  for (auto& hog : hogs) hog.join();
  EXPECT_EQ(body, "x");
  EXPECT_EQ(hog_failures.load(), 0);
}

}  // namespace
}  // namespace mltrack::http
