#include "cli/models_command.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/models_serve.h"
#include "mltrack/error.h"
#include "models/bundle/archive.h"
#include "models/bundle/mlmodel.h"
#include "registry/model_uri.h"
#include "registry/registry_json.h"

namespace mltrack::cli {
namespace {

namespace fs = std::filesystem;

registry::ModelResolver MakeResolver(const GlobalOptions& global) {
  return registry::ModelResolver(global.tracking_uri);
}

// A string literal of the registry's filter grammar for `value`: single-quoted unless the value
// holds a single quote. The grammar has no escapes, so a value with both quotes cannot be written.
std::string FilterLiteral(const std::string& value) {
  if (value.find('\'') == std::string::npos) return "'" + value + "'";
  if (value.find('"') == std::string::npos) return "\"" + value + "\"";
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Cannot search for the model name '{}': it holds both kinds of quote",
                          value));
}

std::string JoinAliases(const std::vector<std::string>& aliases) {
  std::vector<std::string> sorted = aliases;
  std::sort(sorted.begin(), sorted.end());
  return fmt::format("{}", fmt::join(sorted, ","));
}

// Every page of a registry search.
template <typename T, typename Search>
std::vector<T> SearchAll(registry::RegistrySearch search, Search&& next_page) {
  std::vector<T> all;
  while (true) {
    Page<T> page = next_page(search);
    for (auto& item : page.items) all.push_back(std::move(item));
    if (page.next_page_token.empty()) return all;
    search.page_token = page.next_page_token;
  }
}

// The positional MODEL_URI of describe, download and export.
void AddModelUriArgument(CLI::App& command, std::string* uri) {
  command.add_option("MODEL_URI", *uri, "The model: runs:/, models:/, a folder or archive")
      ->required();
}

void AddNameArgument(CLI::App& command, std::string* name) {
  command.add_option("NAME", *name, "Name of the registered model")->required();
}

// --- register -------------------------------------------------------------------------------------

void SetupRegister(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string uri;
    std::string name;
    std::vector<std::string> tags;
    std::string description;
  };
  auto options = std::make_shared<Options>();
  command
      .add_option("MODEL_URI", options->uri,
                  "The bundle to register: runs:/<run_id>/<path>, or a folder or .tar.gz archive "
                  "(local tracking URIs only)")
      ->required();
  command.add_option("-n,--name", options->name, "Name of the registered model; created if new")
      ->required();
  command.add_option("--tag", options->tags, "A tag of the new version (repeatable)")
      ->type_name("KEY=VALUE")
      ->check(KeyValueValidator());
  command.add_option("--description", options->description, "Description of the new version");
  command.callback([options, &global] {
    std::vector<Tag> tags;
    for (const auto& tag : options->tags) tags.push_back(ParseKeyValue(tag));
    registry::ModelVersion version =
        MakeResolver(global).Register(options->uri, options->name, tags, options->description);
    Print(fmt::format("Registered '{}' as version {} of model '{}' (models:/{}/{})\n",
                      options->uri, version.version, version.name, version.name,
                      version.version));
  });
}

// --- list -----------------------------------------------------------------------------------------

std::string LatestVersion(const registry::RegisteredModel& model) {
  int64_t latest = 0;
  for (const auto& version : model.latest_versions) {
    latest = std::max<int64_t>(latest, std::stoll(version.version));
  }
  return latest == 0 ? "" : std::to_string(latest);
}

void SetupList(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string filter;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  command.add_option("--filter", options->filter,
                     "A search filter, e.g. \"name LIKE 'recs%'\" or \"tags.team = 'ml'\"");
  command.add_flag("--json", options->json,
                   "Print {\"registered_models\": [...]} as MLflow's REST API writes it");
  command.callback([options, &global] {
    auto store = MakeResolver(global);
    registry::RegistrySearch search;
    search.filter = options->filter;
    search.max_results = 1000;
    search.order_by = {"name ASC"};
    auto models = SearchAll<registry::RegisteredModel>(search, [&](const auto& s) {
      return store.registry().SearchRegisteredModels(s);
    });
    if (options->json) {
      nlohmann::json out = {{"registered_models", nlohmann::json::array()}};
      for (const auto& model : models) out["registered_models"].push_back(registry::ToJson(model));
      PrintJson(out);
      return;
    }
    Table table({{"NAME"}, {"LATEST", Align::kRight}, {"ALIASES"}, {"UPDATED"}, {"DESCRIPTION"}});
    for (const auto& model : models) {
      std::vector<std::string> aliases;
      for (const auto& alias : model.aliases) {
        aliases.push_back(alias.alias + "=" + alias.version);
      }
      table.AddRow({model.name, LatestVersion(model), JoinAliases(aliases),
                    FormatUtcTime(model.last_updated_timestamp), model.description});
    }
    Print(table.Render());
  });
}

// --- versions -------------------------------------------------------------------------------------

void SetupVersions(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string name;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  AddNameArgument(command, &options->name);
  command.add_flag("--json", options->json,
                   "Print {\"model_versions\": [...]} as MLflow's REST API writes it");
  command.callback([options, &global] {
    auto store = MakeResolver(global);
    // An unknown model is an error, not an empty list.
    store.registry().GetRegisteredModel(options->name);
    registry::RegistrySearch search;
    search.filter = "name = " + FilterLiteral(options->name);
    search.max_results = 1000;
    search.order_by = {"version_number DESC"};
    auto versions = SearchAll<registry::ModelVersion>(search, [&](const auto& s) {
      return store.registry().SearchModelVersions(s);
    });
    if (options->json) {
      nlohmann::json out = {{"model_versions", nlohmann::json::array()}};
      for (const auto& version : versions) out["model_versions"].push_back(registry::ToJson(version));
      PrintJson(out);
      return;
    }
    Table table({{"VERSION", Align::kRight},
                 {"STAGE"},
                 {"ALIASES"},
                 {"STATUS"},
                 {"CREATED"},
                 {"RUN_ID"},
                 {"SOURCE"}});
    for (const auto& v : versions) {
      table.AddRow({v.version, v.current_stage, JoinAliases(v.aliases), v.status,
                    FormatUtcTime(v.creation_timestamp), v.run_id, v.source});
    }
    Print(table.Render());
  });
}

// --- alias ----------------------------------------------------------------------------------------

void SetupAlias(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string name;
    std::string alias;
    std::string version;
    bool remove = false;
  };
  auto options = std::make_shared<Options>();
  AddNameArgument(command, &options->name);
  command.add_option("ALIAS", options->alias, "The alias, e.g. prod")->required();
  command.add_option("VERSION", options->version, "The version the alias points at");
  command.add_flag("--delete", options->remove, "Delete the alias instead");
  command.callback([options, &global] {
    if (options->remove && !options->version.empty()) {
      throw CLI::ValidationError("VERSION", "not allowed with --delete");
    }
    if (!options->remove && options->version.empty()) {
      throw CLI::RequiredError("VERSION (or --delete)");
    }
    auto store = MakeResolver(global);
    if (options->remove) {
      // MLflow does not refuse deleting an absent alias; an unknown model still is an error.
      store.registry().GetRegisteredModel(options->name);
      store.registry().DeleteRegisteredModelAlias(options->name, options->alias);
      Print(fmt::format("Deleted alias '{}' of model '{}'\n", options->alias, options->name));
      return;
    }
    store.registry().SetRegisteredModelAlias(options->name, options->alias, options->version);
    Print(fmt::format("models:/{}@{} is version {}\n", options->name, options->alias,
                      options->version));
  });
}

// --- transition -----------------------------------------------------------------------------------

void SetupTransition(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string name;
    std::string version;
    std::string stage;
    bool archive_existing = false;
  };
  auto options = std::make_shared<Options>();
  AddNameArgument(command, &options->name);
  command.add_option("VERSION", options->version, "The version to move")->required();
  command.add_option("STAGE", options->stage, "None, Staging, Production or Archived")
      ->required();
  command.add_flag("--archive-existing", options->archive_existing,
                   "Move the other versions in STAGE (Staging or Production) to Archived");
  command.callback([options, &global] {
    auto store = MakeResolver(global);
    registry::ModelVersion version = store.registry().TransitionModelVersionStage(
        options->name, options->version, options->stage, options->archive_existing);
    Print(fmt::format("Version {} of model '{}' is in stage {}\n", version.version, version.name,
                      version.current_stage));
  });
}

// --- describe -------------------------------------------------------------------------------------

std::string RenderSchema(const models::Schema& schema) {
  Table table({{"NAME"}, {"TYPE"}, {"REQUIRED"}});
  for (const auto& column : schema) {
    table.AddRow({column.name.value_or("-"), std::string(models::DataTypeName(column.type)),
                  column.required ? "yes" : "no"});
  }
  return table.Render("  ");
}

std::string FlavorSummary(const nlohmann::json& config) {
  std::vector<std::string> parts;
  if (config.is_object()) {
    for (const auto& [key, value] : config.items()) {
      if (value.is_primitive()) {
        parts.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
      }
    }
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

void SetupDescribe(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string uri;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  AddModelUriArgument(command, &options->uri);
  command.add_flag("--json", options->json,
                   "Print {\"model_uri\", \"location\", \"run_id\", \"registered_model\", "
                   "\"mlmodel\"} as JSON");
  command.callback([options, &global] {
    auto resolver = MakeResolver(global);
    registry::ResolvedModel resolved = resolver.Resolve(options->uri);
    models::ModelMeta meta;
    resolver.WithBundleFolder(options->uri, [&](const fs::path& bundle) {
      meta = models::ReadMlmodel(bundle / models::kMlmodelFileName);
    });
    std::string run_id = !meta.run_id.empty() ? meta.run_id : resolved.run_id;
    if (options->json) {
      nlohmann::json out = {{"model_uri", options->uri},
                            {"location", resolved.location},
                            {"run_id", run_id},
                            {"mlmodel", models::MlmodelToJson(meta)}};
      if (!resolved.name.empty()) {
        out["registered_model"] = {{"name", resolved.name}, {"version", resolved.version}};
      }
      PrintJson(out);
      return;
    }
    std::vector<std::pair<std::string, std::string>> fields = {{"Model URI", options->uri},
                                                               {"Location", resolved.location}};
    if (!resolved.name.empty()) {
      fields.emplace_back("Registered", fmt::format("{} version {}", resolved.name,
                                                    resolved.version));
    }
    if (!run_id.empty()) fields.emplace_back("Run", run_id);
    if (!meta.artifact_path.empty()) fields.emplace_back("Artifact path", meta.artifact_path);
    if (!meta.model_uuid.empty()) fields.emplace_back("Model UUID", meta.model_uuid);
    fields.emplace_back("Created", meta.utc_time_created + " UTC");
    if (!meta.mltrack_version.empty()) fields.emplace_back("mltrack", meta.mltrack_version);
    if (meta.saved_input_example_info) {
      fields.emplace_back("Input example", meta.saved_input_example_info->artifact_path);
    }
    std::string text = RenderFields(fields);
    text += "Flavors:\n";
    Table flavors({{"FLAVOR"}, {"CONFIGURATION"}});
    for (const auto& [name, config] : meta.flavors) flavors.AddRow({name, FlavorSummary(config)});
    text += flavors.Render("  ");
    if (meta.signature) {
      text += "Signature inputs:\n" + RenderSchema(meta.signature->inputs);
      if (meta.signature->outputs) {
        text += "Signature outputs:\n" + RenderSchema(*meta.signature->outputs);
      }
    } else {
      text += "Signature: none\n";
    }
    Print(text);
  });
}

// --- download and export --------------------------------------------------------------------------

void SetupDownload(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string uri;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  AddModelUriArgument(command, &options->uri);
  command.add_option("-o,--output", options->out, "The bundle folder to create (must not exist)")
      ->required()
      ->type_name("DIR");
  command.callback([options, &global] {
    fs::path dest = MakeResolver(global).Download(options->uri, options->out);
    Print(dest.string() + "\n");
  });
}

void SetupExport(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string uri;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  AddModelUriArgument(command, &options->uri);
  command.add_option("-o,--output", options->out, "The .tar.gz archive to write")
      ->required()
      ->type_name("FILE");
  command.callback([options, &global] {
    MakeResolver(global).WithBundleFolder(
        options->uri, [&](const fs::path& bundle) { models::ExportBundle(bundle, options->out); });
    Print(options->out + "\n");
  });
}

}  // namespace

void SetupModelsCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(
      command, global,
      {
          {"register", "Register a model bundle as a new version of a named model", SetupRegister},
          {"list", "List registered models", SetupList},
          {"versions", "List the versions of a registered model", SetupVersions},
          {"alias", "Point an alias of a model at a version, or delete it", SetupAlias},
          {"transition", "Move a version to a stage", SetupTransition},
          {"describe", "Show a model's MLmodel: flavors, signature, origin", SetupDescribe},
          {"download", "Copy a model bundle into a new local folder", SetupDownload},
          {"export", "Write a model bundle as one .tar.gz archive", SetupExport},
          {"serve", "Serve a model over HTTP (MLflow's /invocations, Open Inference Protocol v2)",
           SetupModelsServeCommand},
          {"predict", "Score a CSV or JSON file with a model, as the scoring server would",
           SetupModelsPredictCommand},
      });
}

}  // namespace mltrack::cli
