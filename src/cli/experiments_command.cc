#include "cli/experiments_command.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tracking/entity_json.h"

namespace mltrack::cli {
namespace {

// Page size used while following page tokens.
constexpr int kPageSize = 1000;

// --- create -------------------------------------------------------------------------------------

void SetupCreate(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string name;
    std::string artifact_location;
    std::vector<std::string> tags;
  };
  auto options = std::make_shared<Options>();
  command.add_option("NAME", options->name, "Name of the new experiment")->required();
  command
      .add_option("--artifact-location", options->artifact_location,
                  "Where the experiment's artifacts are stored (default: <artifact root>/<id>)")
      ->type_name("URI");
  command.add_option("--tag", options->tags, "Set a tag on the experiment; may be repeated")
      ->check(KeyValueValidator())
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  command.callback([options, &global] {
    std::vector<Tag> tags;
    for (const auto& text : options->tags) tags.push_back(ParseKeyValue(text));
    auto store = OpenStore(global);
    std::string id = store->CreateExperiment(options->name, options->artifact_location, tags);
    Print(fmt::format("Created experiment '{}' with id {}\n", options->name, id));
  });
}

// --- list ---------------------------------------------------------------------------------------

void SetupList(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string view = "active";
    std::string filter;
    std::vector<std::string> order_by;
    int max_results = 0;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  AddViewOption(command, &options->view, "experiments");
  command
      .add_option("--filter", options->filter,
                  "Search filter, e.g. \"name LIKE 'recs-%' AND tags.team = 'search'\"")
      ->type_name("FILTER");
  command
      .add_option("--order-by", options->order_by,
                  "Order by a column, e.g. \"name\" or \"creation_time DESC\"; may be repeated")
      ->allow_extra_args(false)
      ->type_name("COLUMN");
  command
      .add_option("--max-results", options->max_results,
                  "List at most N experiments (default: all)")
      ->check(PositiveIntValidator())
      ->type_name("N");
  command.add_flag("--json", options->json,
                   "Print {\"experiments\": [...]} as MLflow's REST API writes it");
  command.callback([options, &global] {
    auto store = OpenStore(global);
    ExperimentSearch search;
    search.filter = options->filter;
    search.view = ParseViewOption(options->view);
    search.order_by = options->order_by;
    std::vector<Experiment> experiments;
    std::string next_page_token;
    for (;;) {
      int remaining = options->max_results > 0
                          ? options->max_results - static_cast<int>(experiments.size())
                          : kPageSize;
      search.max_results = std::min(remaining, kPageSize);
      Page<Experiment> page = store->SearchExperiments(search);
      for (auto& e : page.items) experiments.push_back(std::move(e));
      next_page_token = page.next_page_token;
      if (next_page_token.empty()) break;
      if (options->max_results > 0 &&
          static_cast<int>(experiments.size()) >= options->max_results) {
        break;
      }
      search.page_token = next_page_token;
    }

    if (options->json) {
      nlohmann::json out = {{"experiments", nlohmann::json::array()}};
      for (const auto& e : experiments) out["experiments"].push_back(tracking::ToJson(e));
      if (!next_page_token.empty()) out["next_page_token"] = next_page_token;
      PrintJson(out);
      return;
    }
    bool show_stage = search.view != ViewType::kActiveOnly;
    std::vector<Table::Column> columns = {{"ID"}, {"NAME"}, {"ARTIFACT LOCATION"}};
    if (show_stage) columns.push_back({"STAGE"});
    columns.push_back({"CREATED"});
    Table table(std::move(columns));
    for (const auto& e : experiments) {
      std::vector<std::string> row = {e.experiment_id, e.name, e.artifact_location};
      if (show_stage) row.emplace_back(LifecycleStageName(e.lifecycle_stage));
      row.push_back(FormatUtcTime(e.creation_time));
      table.AddRow(std::move(row));
    }
    Print(table.Render());
  });
}

// --- get ----------------------------------------------------------------------------------------

void PrintExperiment(const Experiment& e) {
  Print(RenderFields({
      {"ID", e.experiment_id},
      {"Name", e.name},
      {"Artifact location", e.artifact_location},
      {"Stage", std::string(LifecycleStageName(e.lifecycle_stage))},
      {"Created", FormatUtcTime(e.creation_time)},
      {"Last updated", FormatUtcTime(e.last_update_time)},
  }));
  if (e.tags.empty()) return;
  std::vector<Tag> tags = e.tags;
  std::sort(tags.begin(), tags.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  Table table({{"KEY"}, {"VALUE"}});
  for (const auto& tag : tags) table.AddRow({tag.key, tag.value});
  Print("\nTags:\n");
  Print(table.Render("  "));
}

void SetupGet(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string id;
    std::string name;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  CLI::Option* id = command.add_option("ID", options->id, "Id of the experiment");
  command.add_option("--name", options->name, "Find the experiment by its name instead")
      ->excludes(id)
      ->type_name("NAME");
  command.add_flag("--json", options->json,
                   "Print {\"experiment\": {...}} as MLflow's REST API writes it");
  command.callback([options, &global] {
    if (options->id.empty() && options->name.empty()) throw CLI::RequiredError("ID or --name");
    auto store = OpenStore(global);
    Experiment e = options->id.empty() ? store->GetExperimentByName(options->name)
                                       : store->GetExperiment(options->id);
    if (options->json) {
      PrintJson({{"experiment", tracking::ToJson(e)}});
    } else {
      PrintExperiment(e);
    }
  });
}

// --- rename, delete, restore --------------------------------------------------------------------

void SetupRename(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string id;
    std::string new_name;
  };
  auto options = std::make_shared<Options>();
  command.add_option("ID", options->id, "Id of the experiment")->required();
  command.add_option("NEW_NAME", options->new_name, "Its new name")->required();
  command.callback([options, &global] {
    auto store = OpenStore(global);
    std::string old_name = store->GetExperiment(options->id).name;
    store->RenameExperiment(options->id, options->new_name);
    Print(fmt::format("Renamed experiment {} from '{}' to '{}'\n", options->id, old_name,
                      options->new_name));
  });
}

void SetupDelete(CLI::App& command, GlobalOptions& global) {
  SetupIdCommand(
      command, global, "ID", "Id of the experiment",
      [](tracking::TrackingStore& store, const std::string& id) { store.DeleteExperiment(id); },
      "Deleted experiment {}\n");
}

void SetupRestore(CLI::App& command, GlobalOptions& global) {
  SetupIdCommand(
      command, global, "ID", "Id of the experiment",
      [](tracking::TrackingStore& store, const std::string& id) { store.RestoreExperiment(id); },
      "Restored experiment {}\n");
}

}  // namespace

void SetupExperimentsCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"create", "Create an experiment", SetupCreate},
                  {"list", "List experiments", SetupList},
                  {"get", "Show an experiment, by id or by name", SetupGet},
                  {"rename", "Rename an experiment", SetupRename},
                  {"delete", "Delete an experiment and its runs (they can be restored)",
                   SetupDelete},
                  {"restore", "Restore a deleted experiment and its runs", SetupRestore},
              });
}

}  // namespace mltrack::cli
