// The web app's artifact routes (ui_handlers.h): the bytes of one artifact file of a run or a
// registered model version, and a model's MLmodel as JSON. Every artifact this server can read
// sits in a local folder (the artifact proxy's destination, or a run's local artifact URI), found
// by LocalArtifactRoot as artifacts/list finds it; a requested path is checked with ResolveUnder
// against that folder.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/safe_path.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "models/bundle/mlmodel.h"
#include "registry/model_uri.h"
#include "server/artifact_handlers.h"
#include "server/ui_handlers_internal.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::server::ui {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tracking::handlers::RequestFields;
using tracking::handlers::SetJson;
using tracking::handlers::ThrowMissing;

// The local folder of a run's artifacts.
fs::path RunArtifactRoot(const Context& context, const std::string& run_id) {
  Run run = context.store->GetRun(run_id);  // kResourceDoesNotExist for an unknown run
  return tracking::handlers::LocalArtifactRoot(
      run.info.artifact_uri, context.options.artifacts_destination,
      fmt::format("Cannot read the artifacts of run {}", run_id));
}

// The local folder of a registered version's artifacts: its source followed as ModelResolver
// follows it (runs:/ to the run's artifacts, models:/ to the version it names), then read as an
// artifact URI.
fs::path VersionArtifactRoot(const Context& context, const std::string& name,
                             const std::string& version) {
  registry::ModelVersion model_version = context.registry->GetModelVersion(name, version);
  std::string location = model_version.source;
  std::string scheme = UriScheme(location);
  if (scheme == "runs" || scheme == "models") {
    registry::ModelResolver resolver(context.store, context.registry,
                                     context.options.tracking_uri);
    location = resolver.Resolve(location).location;
  }
  return tracking::handlers::LocalArtifactRoot(
      location, context.options.artifacts_destination,
      fmt::format("Cannot read model version {} of '{}'", version, name));
}

// The request's `path`, normalized: required (a path that normalizes to nothing, such as ".",
// names no file), and refused when it escapes.
std::string RequiredPath(const RequestFields& fields) {
  std::string path = NormalizeRelativePath(fields.RequiredString("path"));
  if (path.empty()) ThrowMissing("path");
  return path;
}

// Answers with the file `relative` under `root`, typed for showing in the browser.
void SendArtifact(const fs::path& root, const std::string& relative, http::Response& response) {
  OpenArtifact artifact = OpenArtifactFile(ResolveUnder(root, relative), relative);
  if (artifact.is_dir) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("Artifact '{}' is a folder, not a file", relative));
  }
  std::string name = fs::path(relative).filename().string();
  std::string type = GuessMimeType(name);
  response.status = 200;
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // An artifact opened in its own tab (an HTML page, an SVG) runs no script in this origin.
  response.headers.emplace_back("Content-Security-Policy", "sandbox");
  if (type.starts_with("text/")) {
    // text/html and text/css too: shown as their source, never rendered in this origin.
    response.content_type = "text/plain; charset=utf-8";
  } else if (type.starts_with("image/")) {
    response.content_type = type;
  } else {
    response.content_type = type;
    response.headers.emplace_back("Content-Disposition", AttachmentDisposition(name));
  }
  StreamArtifact(artifact, response);
}

void GetRunArtifact(const Context& context, const http::Request& request,
                    http::Response& response) {
  RequestFields fields(request, {});
  // MLflow's UI sends run_uuid; run_id is accepted as well.
  std::string run_id = fields.String("run_uuid").value_or("");
  if (run_id.empty()) run_id = fields.String("run_id").value_or("");
  if (run_id.empty()) ThrowMissing("run_uuid");
  std::string path = RequiredPath(fields);
  SendArtifact(RunArtifactRoot(context, run_id), path, response);
}

void GetModelVersionArtifact(const Context& context, const http::Request& request,
                             http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  std::string path = RequiredPath(fields);
  SendArtifact(VersionArtifactRoot(context, name, version), path, response);
}

// The MLmodel file at `folder` (relative to `root`) as written (models::ReadMlmodelAsWritten:
// models this build cannot load show too), with the signature's schemas parsed. Messages name
// the file by its relative path, never by the server's folders.
json ReadMlmodelJson(const fs::path& root, const std::string& folder) {
  std::string relative =
      folder.empty() ? std::string(models::kMlmodelFileName)
                     : fmt::format("{}/{}", folder, models::kMlmodelFileName);
  fs::path file = ResolveUnder(root, relative);
  // Only a regular file is read: a pipe planted under that name would block the reader.
  struct stat st;
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No MLmodel file at '{}'", relative));
  }
  json mlmodel;
  try {
    mlmodel = models::ReadMlmodelAsWritten(file);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kResourceDoesNotExist) {  // removed meanwhile
      throw Error(e.code(), fmt::format("No MLmodel file at '{}'", relative));
    }
    // The reader names the file it was given: "Invalid MLmodel file '<file>': ...".
    std::string message = e.what();
    std::string named = fmt::format("'{}'", file.string());
    if (size_t at = message.find(named); at != std::string::npos) {
      message.replace(at, named.size(), fmt::format("'{}'", relative));
    }
    throw Error(e.code(), std::move(message));
  }
  if (auto signature = mlmodel.find("signature");
      signature != mlmodel.end() && signature->is_object()) {
    // MLflow writes each part as a JSON string inside the YAML.
    for (const char* part : {"inputs", "outputs", "params"}) {
      json& value = (*signature)[part];
      if (!value.is_string()) continue;
      try {
        value = json::parse(value.get<std::string>());
      } catch (const json::parse_error& e) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("Invalid MLmodel file '{}': signature {} is not valid JSON ({})",
                                relative, part, e.what()));
      }
    }
  }
  return mlmodel;
}

void RunMlmodel(const Context& context, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  std::string folder = NormalizeRelativePath(fields.String("path").value_or(""));
  SetJson(response, {{"mlmodel", ReadMlmodelJson(RunArtifactRoot(context, run_id), folder)}});
}

void ModelVersionMlmodel(const Context& context, const http::Request& request,
                         http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  SetJson(response,
          {{"mlmodel", ReadMlmodelJson(VersionArtifactRoot(context, name, version), "")}});
}

}  // namespace

void RegisterArtifactRoutes(http::Server& server, const std::shared_ptr<const Context>& context) {
  RouteGet(server, context, {"/get-artifact", "/ajax-api/2.0/mlflow/get-artifact"},
           GetRunArtifact);
  RouteGet(server, context,
           {"/model-versions/get-artifact", "/ajax-api/2.0/mlflow/model-versions/get-artifact"},
           GetModelVersionArtifact);
  RouteMltrack(server, context, "GET", "artifacts/mlmodel", RunMlmodel);
  RouteMltrack(server, context, "GET", "model-versions/mlmodel", ModelVersionMlmodel);
}

}  // namespace mltrack::server::ui
