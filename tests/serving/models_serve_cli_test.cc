// `mlt models serve` and `mlt models predict` end to end: the built binary, run as a child
// process, serving logistic regressions trained here: answers, SIGTERM with a request in flight,
// 16 keep-alive connections for MLT_SERVE_LOAD_SECONDS (default 30) without an error, and an
// alias moved under load with --watch without a failed request. Predict on CSV and JSON, its
// outputs and its errors, with exact terminal output.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli_expect.h"
#include "common/http_client.h"
#include "models/bundle/mlmodel.h"
#include "models/logistic/logistic_trainer.h"
#include "support/test_support.h"

extern char** environ;

namespace mltrack::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// A logistic regression of whether x1 + x2 > 0 (`positive`) or not (`negative`), with a wide
// margin.
void SaveLogistic(const fs::path& dir, const std::string& negative = "no",
                  const std::string& positive = "yes") {
  std::vector<double> x1, x2;
  std::vector<std::string> y;
  for (int i = 0; i < 300; ++i) {
    double a = (i * 37) % 101 / 25.0 - 2.0, b = (i * 53) % 89 / 22.0 - 2.0;
    if (std::abs(a + b) < 0.5) continue;
    x1.push_back(a);
    x2.push_back(b);
    y.push_back(a + b > 0 ? positive : negative);
  }
  models::Table table, example;
  table.AddColumn("x1", x1);
  table.AddColumn("x2", x2);
  table.AddColumn("y", y);
  example.AddColumn("x1", std::vector<double>(x1.begin(), x1.begin() + 3));
  example.AddColumn("x2", std::vector<double>(x2.begin(), x2.begin() + 3));
  auto comm = dist::MakeSingleCommunicator();
  logistic::TrainInput input;
  input.train.table = &table;
  input.label = "y";
  logistic::TrainLogistic(input, {.reg = 0.01}, *comm)
      .model->Save(dir, models::NewModelMeta(), example);
}

class ModelsCliTest : public ::testing::Test {
 protected:
  ModelsCliTest() { SaveLogistic(bundle_); }
  ProcessResult Mlt(std::vector<std::string> args) {
    args.insert(args.end(), {"--tracking-uri", tracking_uri_});
    return RunMlt(args, {.cwd = dir_.path()});
  }

  TempDir dir_;
  std::string tracking_uri_ = "sqlite:///" + (dir_ / "mlruns.db").string();
  fs::path bundle_ = dir_ / "model";
};

// --- serve ---------------------------------------------------------------------------------------


std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, got);
  return text;
}

// `mlt models serve ...` as a child process with its stdout and stderr on pipes.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {MLT_BINARY, "models", "serve"});
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, err[0]);
    int rc = posix_spawn(&pid_, MLT_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
    ::close(err_);
  }
  // The first line the server prints.
  std::string FirstLine() {
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos && ::read(out_, &c, 1) == 1) line += c;
    return line;
  }
  // The port of the first line, "mlt models serve listening on http://127.0.0.1:<port>"; -1 when
  // the line is another.
  int Port() {
    std::string line = FirstLine();
    std::smatch match;
    if (!std::regex_match(line, match,
                          std::regex(R"(mlt models serve listening on )"
                                     R"(http://127\.0\.0\.1:(\d+)\n)"))) {
      ADD_FAILURE() << "unexpected first line: " << line;
      return -1;
    }
    return std::stoi(match[1]);
  }
  // Sends `signal` and waits for the exit: {exit code, the rest of stdout, stderr}.
  ProcessResult Stop(int signal) {
    ProcessResult result;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = ReadAll(out_);
    result.err = ReadAll(err_);
    return result;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
};

TEST_F(ModelsCliTest, ServeAnswersAndFinishesARequestInFlightOnSigterm) {
  ServeProcess serve({"-m", bundle_.string(), "--port", "0", "--workers", "4", "--tracking-uri",
                      "sqlite:///" + (dir_ / "mlruns.db").string()});
  std::string line = serve.FirstLine();
  std::smatch match;
  ASSERT_TRUE(std::regex_match(
      line, match, std::regex(R"(mlt models serve listening on http://127\.0\.0\.1:(\d+)\n)")))
      << line;
  int port = std::stoi(match[1]);
  http::Client client(fmt::format("http://127.0.0.1:{}", port));
  http::Result answer = client.Send("POST", "/invocations",
                                    R"({"dataframe_split": {"columns": ["x1", "x2"], )"
                                    R"("data": [[2.0, 1.0], [-2.0, -1.5]]}})",
                                    "application/json", false);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"predictions":["yes","no"]})");
  EXPECT_EQ(client.Send("POST", "/invocations", "x1,x2\n1,1\n", "text/csv", false).body,
            R"({"predictions":["yes"]})");

  // A request whose body is still arriving when SIGTERM comes is answered before the exit.
  int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  std::string body = "x1,x2\n-3,-1\n";
  std::string head = fmt::format(
      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "text/csv\r\nContent-Length: {}\r\n\r\nx1,",
      body.size());
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  auto in_flight = [&] {
    return client.Get("/metrics").body.find("\nmlt_serving_requests_in_flight 1\n") !=
           std::string::npos;
  };
  for (int i = 0; i < 200 && !in_flight(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(in_flight());
  std::thread finisher([&] {
    // Once the server refuses new connections it has taken the SIGTERM: the rest of the body
    // then arrives for a request in flight at the stop.
    for (int i = 0; i < 1000; ++i) {
      int probe = ConnectLoopback(port);
      if (probe < 0) break;
      ::close(probe);
      std::this_thread::sleep_for(5ms);
    }
    std::string rest = body.substr(3);
    ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
  });
  ProcessResult stopped = serve.Stop(SIGTERM);
  finisher.join();
  std::string reply = ReadAll(fd);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(reply, HasSubstr("\r\n\r\n{\"predictions\":[\"no\"]}"));
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_EQ(stopped.out, "");
  EXPECT_EQ(stopped.err, "");
  EXPECT_EQ(ConnectLoopback(port), -1) << "the port is still open after the exit";
}

TEST_F(ModelsCliTest, ServeRefusesWhatItCannotServe) {
  ExpectError(Mlt({"models", "serve", "-m", "models:/nope@prod", "--port", "0"}), 1,
              "Registered model alias prod not found.");
  ExpectError(Mlt({"models", "serve", "-m", bundle_.string(), "--port", "0", "--watch"}), 1,
              fmt::format("Cannot watch '{}': only models:/<name>@<alias>, models:/<name>/<stage> "
                          "and models:/<name>/latest can move to another version",
                          bundle_.string()));
  ExpectUsageError(Mlt({"models", "serve", "-m", bundle_.string(), "--port", "70000"}),
                   "--port: Value 70000 not in range 0 to 65535");
  ExpectUsageError(Mlt({"models", "serve", "--port", "0"}), "--model-uri is required");
}

// --- load
// ------------------------------------------------------------------------------------------

struct LoadOutcome {
  uint64_t requests = 0;
  uint64_t failures = 0;
  std::vector<std::string> samples;  // the first few failures
};

// Runs `clients` threads, each posting `body` to /invocations on its own keep-alive connection
// until `stop`; an answer `ok` refuses, or a transport error, is a failure.
LoadOutcome RunLoad(int port, int clients, const std::string& body,
                    const std::function<bool(const http::Result&)>& ok,
                    const std::atomic<bool>& stop) {
  std::mutex mu;
  LoadOutcome outcome;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      http::Client client(fmt::format("http://127.0.0.1:{}", port),
                          {.connect_timeout = 2000ms, .read_timeout = 30000ms, .max_attempts = 1});
      uint64_t requests = 0, failures = 0;
      while (!stop.load()) {
        ++requests;
        std::string problem;
        try {
          http::Result result =
              client.Send("POST", "/invocations", body, "application/json", false);
          if (!ok(result)) problem = fmt::format("{} {}", result.status, result.body);
        } catch (const std::exception& e) {
          problem = e.what();
        }
        if (problem.empty()) continue;
        ++failures;
        std::lock_guard lock(mu);
        if (outcome.samples.size() < 5) outcome.samples.push_back(problem);
      }
      std::lock_guard lock(mu);
      outcome.requests += requests;
      outcome.failures += failures;
    });
  }
  for (auto& thread : threads) thread.join();
  return outcome;
}

TEST_F(ModelsCliTest, ServesSixteenKeepAliveConnectionsWithoutAnError) {
  const char* env = std::getenv("MLT_SERVE_LOAD_SECONDS");
  const double seconds = env != nullptr ? std::atof(env) : 30.0;
  ServeProcess serve({"-m", bundle_.string(), "--port", "0", "--workers", "16"});
  int port = serve.Port();
  ASSERT_GT(port, 0);
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  });
  auto start = std::chrono::steady_clock::now();
  LoadOutcome outcome = RunLoad(
      port, 16, R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[2.0, 1.0]]}})",
      [](const http::Result& r) {
        return r.status == 200 && r.body == R"({"predictions":["yes"]})";
      },
      stop);
  timer.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ load     ] %llu requests in %.1f s (%.0f/s) on 16 connections\n",
              static_cast<unsigned long long>(outcome.requests), elapsed,
              static_cast<double>(outcome.requests) / elapsed);
  EXPECT_EQ(outcome.failures, 0u) << fmt::format("{}", fmt::join(outcome.samples, "\n"));
  EXPECT_GT(outcome.requests, 16u);
  http::Client client(fmt::format("http://127.0.0.1:{}", port));
  EXPECT_THAT(client.Get("/metrics").body,
              HasSubstr(fmt::format("\nmlt_serving_requests_total{{route=\"/invocations\","
                                    "status=\"200\"}} {}\n",
                                    outcome.requests)));
  ProcessResult stopped = serve.Stop(SIGTERM);
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_EQ(stopped.err, "");
}

// Two versions of a registered model with different labels: `mlt models alias` moves the alias
// from the first to the second while clients keep scoring. No request fails, and the second's
// answers replace the first's.
TEST_F(ModelsCliTest, WatchSwapsTheAliasUnderLoadWithoutAFailedRequest) {
  SaveLogistic(dir_ / "v2", "negative", "positive");
  ExpectOutput(Mlt({"models", "register", bundle_.string(), "-n", "clf"}),
               fmt::format("Registered '{}' as version 1 of model 'clf' (models:/clf/1)\n",
                           bundle_.string()));
  ASSERT_EQ(Mlt({"models", "register", (dir_ / "v2").string(), "-n", "clf"}).exit_code, 0);
  ExpectOutput(Mlt({"models", "alias", "clf", "prod", "1"}), "models:/clf@prod is version 1\n");
  ServeProcess serve({"-m", "models:/clf@prod", "--port", "0", "--watch", "--watch-interval",
                      "0.05", "--tracking-uri", tracking_uri_});
  int port = serve.Port();
  ASSERT_GT(port, 0);

  const std::string kOld = R"({"predictions":["yes"]})", kNew = R"({"predictions":["positive"]})";
  std::atomic<bool> stop{false};
  std::atomic<int> old_answers{0}, new_answers{0};
  std::atomic<bool> old_after_new{false};  // a client answered by the old version after the new
  std::thread load([&] {
    LoadOutcome outcome = RunLoad(
        port, 4, R"({"inputs": {"x1": 2.0, "x2": 1.0}})",
        [&](const http::Result& r) {
          // Each client is a thread sending one request after another: once one of its requests
          // was answered by the new version, every later one starts after the swap.
          thread_local bool saw_new = false;
          if (r.status == 200 && r.body == kNew) {
            saw_new = true;
            ++new_answers;
          }
          if (r.status == 200 && r.body == kOld) {
            ++old_answers;
            if (saw_new) old_after_new = true;
          }
          return r.status == 200 && (r.body == kOld || r.body == kNew);
        },
        stop);
    EXPECT_EQ(outcome.failures, 0u) << fmt::format("{}", fmt::join(outcome.samples, "\n"));
  });
  for (int i = 0; i < 1000 && old_answers.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GT(old_answers.load(), 0);
  EXPECT_EQ(new_answers.load(), 0);
  ExpectOutput(Mlt({"models", "alias", "clf", "prod", "2"}), "models:/clf@prod is version 2\n");
  http::Client client(fmt::format("http://127.0.0.1:{}", port));
  auto version = [&] {
    return json::parse(client.Get("/metadata").body).value("model_version", "");
  };
  for (int i = 0; i < 1000 && version() != "2"; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(version(), "2");
  std::this_thread::sleep_for(500ms);
  stop = true;
  load.join();
  EXPECT_GT(new_answers.load(), 0);
  EXPECT_FALSE(old_after_new.load());
  ProcessResult stopped = serve.Stop(SIGTERM);
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_EQ(stopped.err, "mlt models serve: models:/clf@prod is now version 2 (was version 1)\n");
}

// --- predict -------------------------------------------------------------------------------------

TEST_F(ModelsCliTest, PredictScoresCsvAndJsonIntoJsonAndCsv) {
  WriteFile(dir_ / "in.csv", "x1,x2\n2,1\n-2,-1.5\n1.5,0\n");
  ExpectOutput(Mlt({"models", "predict", "-m", bundle_.string(), "-i", "in.csv", "-o", "out.json"}),
               "");
  EXPECT_EQ(ReadFile(dir_ / "out.json"), "{\"predictions\":[\"yes\",\"no\",\"yes\"]}\n");

  WriteFile(dir_ / "in.json",
            R"({"dataframe_records": [{"x1": -1, "x2": -1}, {"x1": 3, "x2": 0.5}]})");
  ExpectOutput(Mlt({"models", "predict", "-m", bundle_.string(), "-i", "in.json", "-o", "out.csv"}),
               "");
  EXPECT_EQ(ReadFile(dir_ / "out.csv"), "prediction\nno\nyes\n");
  // Without -o the JSON answer goes to stdout.
  ExpectOutput(Mlt({"models", "predict", "-m", bundle_.string(), "-i", "in.json"}),
               "{\"predictions\":[\"no\",\"yes\"]}\n");

  // Params in the JSON input apply as on the server: probabilities, one column per class.
  WriteFile(dir_ / "proba.json",
            R"({"inputs": {"x1": [2.0], "x2": [1.0]}, "params": {"predict_proba": true}})");
  ExpectOutput(
      Mlt({"models", "predict", "-m", bundle_.string(), "-i", "proba.json", "-o", "proba.csv"}),
      "");
  std::string csv = ReadFile(dir_ / "proba.csv");
  EXPECT_THAT(csv, StartsWith("prediction,probability_no,probability_yes\nyes,"));
  ExpectOutput(
      Mlt({"models", "predict", "-m", bundle_.string(), "-i", "proba.json", "-o", "proba.json"}),
      "");
  json proba = json::parse(ReadFile(dir_ / "proba.json"))["predictions"];
  EXPECT_EQ(proba[0]["prediction"], "yes");
  EXPECT_GT(proba[0]["probability_yes"].get<double>(), 0.99);
}

TEST_F(ModelsCliTest, PredictRefusesBadInputNamingTheProblem) {
  auto predict = [&](const std::string& input, const std::string& output) {
    return Mlt({"models", "predict", "-m", bundle_.string(), "-i", input, "-o", output});
  };
  ExpectError(predict("missing.csv", "out.json"), 1, "Input file 'missing.csv' does not exist");
  WriteFile(dir_ / "bad.json", R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[1, 2]})");
  ProcessResult bad_json = predict("bad.json", "out.json");
  EXPECT_EQ(bad_json.exit_code, 1);
  EXPECT_EQ(bad_json.out, "");
  EXPECT_THAT(bad_json.err, StartsWith("mlt: error: Invalid input. Ensure that input is a valid "
                                       "JSON formatted string."));
  WriteFile(dir_ / "two.json", R"({"instances": [], "inputs": {}})");
  ProcessResult two_keys = predict("two.json", "out.json");
  EXPECT_EQ(two_keys.exit_code, 1);
  EXPECT_THAT(two_keys.err,
              StartsWith("mlt: error: Invalid input. The input must be a JSON dictionary with "
                         "exactly one of the input fields {'dataframe_split', "
                         "'dataframe_records', 'instances', 'inputs'}. Received dictionary with "
                         "input fields: ['instances', 'inputs']. IMPORTANT: The MLflow Model "
                         "scoring protocol has changed in MLflow version 2.0."));
  WriteFile(dir_ / "missing_column.csv", "x1\n1\n");
  ExpectError(predict("missing_column.csv", "out.json"), 1, "Missing required column 'x2'");
  WriteFile(dir_ / "in.txt", "x1,x2\n1,2\n");
  ExpectError(predict("in.txt", "out.json"), 1,
              "Cannot tell the format of the input file 'in.txt' from its extension: use .csv or "
              ".json");
  WriteFile(dir_ / "in.csv", "x1,x2\n1,2\n");
  ExpectError(predict("in.csv", "out.parquet"), 1,
              "Cannot tell the format of the output file 'out.parquet' from its extension: use "
              ".csv or .json");
  EXPECT_FALSE(fs::exists(dir_ / "out.json")) << "an output written despite an error";
  ExpectUsageError(Mlt({"models", "predict", "-m", bundle_.string(), "-o", "out.json"}),
                   "--input is required");
}

}  // namespace
}  // namespace mltrack::testing
