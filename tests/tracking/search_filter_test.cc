// Behaviour of the search grammar: filters and orders are compiled, run against a real SQLite
// database holding a handful of runs and experiments, and the returned ids compared exactly.
#include "tracking/search_filter.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sqlite.h"
#include "support/test_support.h"
#include "tracking/search_ast.h"
#include "tracking/sqlite_schema.h"

namespace mltrack::tracking {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Ids = std::vector<std::string>;

// Runs, by start_time: a b c d e. Metric rmse: a 0.5, b 1.5, c NaN, d 0.25, e missing.
// Metric acc: a 0.9, b 0.9, c 0.7, d missing, e +inf. Param model: a tree, b Tree, c linear,
// d tree-deep, e missing. Tag mlflow.user: a alice, b bob, c carol, d alice, e missing.
constexpr const char* kRuns = R"sql(
INSERT INTO runs(id, run_uuid, experiment_id, name, user_id, status, start_time, end_time,
                 artifact_uri, lifecycle_stage) VALUES
  (11, 'a', 0, 'alpha',   'alice', 'FINISHED', 1000, 2000, 's3://bucket/a', 'active'),
  (12, 'b', 0, 'beta',    'bob',   'RUNNING',  2000, NULL, 'file:///b',     'active'),
  (13, 'c', 0, 'Gamma',   'carol', 'FAILED',   3000, 3500, 'file:///c',     'active'),
  (14, 'd', 0, 'delta',   'alice', 'FINISHED', 4000, 5000, 'file:///d',     'active'),
  (15, 'e', 0, 'epsilon', 'Bob',   'KILLED',   5000, NULL, 'file:///e',     'deleted');
INSERT INTO metric_keys(id, key) VALUES (1, 'rmse'), (2, 'acc'), (3, 'unused');
INSERT INTO latest_metrics(run_id, key_id, step, timestamp, value) VALUES
  (11, 1, 0, 0, 0.5), (12, 1, 0, 0, 1.5), (13, 1, 0, 0, NULL), (14, 1, 0, 0, 0.25),
  (11, 2, 0, 0, 0.9), (12, 2, 0, 0, 0.9), (13, 2, 0, 0, 0.7),  (15, 2, 0, 0, 9e999);
INSERT INTO params(run_id, key, value) VALUES
  (11, 'model', 'tree'), (12, 'model', 'Tree'), (13, 'model', 'linear'),
  (14, 'model', 'tree-deep'), (11, 'lr', '0.1'), (12, 'lr', '0.01'),
  (11, 'it''s "odd"', 'x'' OR ''1''=''1');
INSERT INTO tags(run_id, key, value) VALUES
  (11, 'mlflow.user', 'alice'), (12, 'mlflow.user', 'bob'), (13, 'mlflow.user', 'carol'),
  (14, 'mlflow.user', 'alice'), (11, 'note', '100%'), (12, 'note', '50_50'),
  (13, 'note', 'a*b?[c]');
INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage, creation_time,
                        last_update_time) VALUES
  (1, 'beta-exp', 'x', 'active', 200, 300), (2, 'Alpha', 'x', 'active', 100, 400),
  (3, 'gamma', 'x', 'active', 300, 300);
UPDATE experiments SET creation_time = 900, last_update_time = 900 WHERE experiment_id = 0;
INSERT INTO experiment_tags(experiment_id, key, value) VALUES (1, 'team', 'ml'), (2, 'team', 'ML');
)sql";

class SearchFilterTest : public ::testing::Test {
 protected:
  SearchFilterTest() : db_((dir_ / "mlruns.db").string()) {
    MigrateSchema(db_, "/tmp/x");
    db_.Transaction([&] { db_.Exec(kRuns); });
  }

  Ids Query(const std::string& table, const std::string& id_column, const CompiledOrder& order,
            const sqlite::SqlFragment& filter) {
    std::string sql = fmt::format("SELECT {} FROM {} {} WHERE {} ORDER BY {}", id_column, table,
                                  order.joins, filter.sql, order.order_by);
    Ids ids;
    db_.ReadTransaction([&] {
      ids.clear();
      sqlite::Statement& stmt = db_.Prepare(sql);
      stmt.BindAll(order.join_binds);
      stmt.BindAll(filter.binds, 1 + static_cast<int>(order.join_binds.size()));
      while (stmt.Step()) ids.push_back(stmt.Text(0));
    });
    return ids;
  }

  // Run ids matching `filter`, oldest first unless `order_by` says otherwise.
  Ids Runs(const std::string& filter, const std::vector<std::string>& order_by = {"start_time"}) {
    return Query("runs r", "r.run_uuid", CompileRunOrder(order_by), CompileRunFilter(filter));
  }
  Ids Experiments(const std::string& filter, const std::vector<std::string>& order_by = {
                                                 "experiment_id"}) {
    return Query("experiments e", "e.experiment_id", CompileExperimentOrder(order_by),
                 CompileExperimentFilter(filter));
  }

  testing::TempDir dir_;
  sqlite::Database db_;
};

TEST_F(SearchFilterTest, BlankFilterMatchesEveryRun) {
  EXPECT_EQ(CompileRunFilter("").sql, "1");
  EXPECT_EQ(CompileRunFilter(" \t\n").sql, "1");
  EXPECT_THAT(Runs(""), ElementsAre("a", "b", "c", "d", "e"));
}

TEST_F(SearchFilterTest, MetricComparatorsSkipNaNAndMissingMetrics) {
  EXPECT_THAT(Runs("metrics.rmse = 0.5"), ElementsAre("a"));
  EXPECT_THAT(Runs("metrics.rmse != 0.5"), ElementsAre("b", "d"));
  EXPECT_THAT(Runs("metrics.rmse < 1"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("metrics.rmse <= 0.5"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("metrics.rmse > 0.25"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("metrics.rmse >= 1.5"), ElementsAre("b"));
  EXPECT_THAT(Runs("metrics.rmse > -1"), ElementsAre("a", "b", "d"));
  EXPECT_THAT(Runs("metrics.rmse < 3e-1"), ElementsAre("d"));
  EXPECT_THAT(Runs("metrics.rmse = .5"), ElementsAre("a"));
  EXPECT_THAT(Runs("metrics.rmse = +5E-1"), ElementsAre("a"));
  EXPECT_THAT(Runs("metrics.acc > 1e308"), ElementsAre("e"));
  EXPECT_THAT(Runs("metrics.acc = 1e999"), ElementsAre("e"));  // +inf, as float('1e999')
  EXPECT_THAT(Runs("metrics.unused < 1"), IsEmpty());
  EXPECT_THAT(Runs("metrics.never_logged != 1"), IsEmpty());
}

TEST_F(SearchFilterTest, IsNullAsksWhetherTheRunHasTheKey) {
  EXPECT_THAT(Runs("metrics.rmse IS NULL"), ElementsAre("e"));
  EXPECT_THAT(Runs("metrics.rmse is not null"), ElementsAre("a", "b", "c", "d"));  // NaN: has it
  EXPECT_THAT(Runs("metrics.acc Is Null"), ElementsAre("d"));
  EXPECT_THAT(Runs("params.lr IS NULL"), ElementsAre("c", "d", "e"));
  EXPECT_THAT(Runs("params.lr IS NOT NULL"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("tags.note IS NULL"), ElementsAre("d", "e"));
  EXPECT_THAT(Runs("end_time IS NULL"), ElementsAre("b", "e"));
  EXPECT_THAT(Runs("end_time IS NOT NULL"), ElementsAre("a", "c", "d"));
  EXPECT_THAT(Runs("run_name IS NULL"), IsEmpty());
}

TEST_F(SearchFilterTest, ParamComparatorsMatchOnlyRunsWithTheParam) {
  EXPECT_THAT(Runs("params.model = 'tree'"), ElementsAre("a"));
  EXPECT_THAT(Runs("params.model = \"tree\""), ElementsAre("a"));
  EXPECT_THAT(Runs("params.model != 'tree'"), ElementsAre("b", "c", "d"));
  EXPECT_THAT(Runs("params.model IN ('tree', 'linear')"), ElementsAre("a", "c"));
  EXPECT_THAT(Runs("params.model in ('tree')"), ElementsAre("a"));
  EXPECT_THAT(Runs("params.model NOT IN ('tree', \"Tree\")"), ElementsAre("c", "d"));
  EXPECT_THAT(Runs("params.lr = '0.1'"), ElementsAre("a"));
}

TEST_F(SearchFilterTest, LikeIsCaseSensitiveAndILikeIsNot) {
  EXPECT_THAT(Runs("params.model LIKE 'tree%'"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("params.model like 'Tree'"), ElementsAre("b"));
  EXPECT_THAT(Runs("params.model ILIKE 'tree%'"), ElementsAre("a", "b", "d"));
  EXPECT_THAT(Runs("params.model ilike 'TREE'"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("params.model LIKE '%e'"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("params.model LIKE 'tre_'"), ElementsAre("a"));
  EXPECT_THAT(Runs("params.model LIKE 'tre'"), IsEmpty());  // LIKE matches the whole value
  EXPECT_THAT(Runs("run_name LIKE 'gamma'"), IsEmpty());
  EXPECT_THAT(Runs("run_name ILIKE 'gamma'"), ElementsAre("c"));
}

TEST_F(SearchFilterTest, LikeTreatsGlobCharactersAsLiterals) {
  EXPECT_THAT(Runs("tags.note LIKE 'a*b?[c]'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.note LIKE '%*%'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.note LIKE '%?%'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.note LIKE '%[c]'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.note LIKE 'a_b_[c]'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.note LIKE '100%'"), ElementsAre("a"));
  EXPECT_THAT(Runs("tags.note LIKE '50_50'"), ElementsAre("b"));
  EXPECT_THAT(Runs("tags.note LIKE '_'"), IsEmpty());
}

TEST_F(SearchFilterTest, KeysMayBeDottedOrQuotedInThreeWays) {
  EXPECT_THAT(Runs("tags.mlflow.user = 'alice'"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("tags.\"mlflow.user\" = 'bob'"), ElementsAre("b"));
  EXPECT_THAT(Runs("tags.`mlflow.user` = 'carol'"), ElementsAre("c"));
  EXPECT_THAT(Runs("tags.'mlflow.user' = 'carol'"), ElementsAre("c"));
  EXPECT_THAT(Runs("`tags`.note = '50_50'"), ElementsAre("b"));
  EXPECT_THAT(Runs("params.`it's \"odd\"` = 'x'' OR ''1''=''1'"), ElementsAre("a"));
  EXPECT_THAT(Runs("params.\"it's \"\"odd\"\"\" = \"x' OR '1'='1\""), ElementsAre("a"));
  EXPECT_THAT(Runs("`run_name` = 'beta'"), ElementsAre("b"));
  EXPECT_THAT(Runs("\"status\" = 'RUNNING'"), ElementsAre("b"));
}

TEST_F(SearchFilterTest, EveryPrefixAliasNamesItsEntity) {
  for (const char* prefix : {"metric", "metrics"}) {
    EXPECT_THAT(Runs(fmt::format("{}.rmse < 1", prefix)), ElementsAre("a", "d")) << prefix;
  }
  for (const char* prefix : {"param", "params", "parameter", "parameters"}) {
    EXPECT_THAT(Runs(fmt::format("{}.model = 'linear'", prefix)), ElementsAre("c")) << prefix;
  }
  for (const char* prefix : {"tag", "tags"}) {
    EXPECT_THAT(Runs(fmt::format("{}.note = '100%'", prefix)), ElementsAre("a")) << prefix;
  }
  for (const char* prefix : {"attribute.", "attributes.", "attr.", "run.", ""}) {
    EXPECT_THAT(Runs(fmt::format("{}status = 'FAILED'", prefix)), ElementsAre("c")) << prefix;
  }
}

TEST_F(SearchFilterTest, StringAttributes) {
  EXPECT_THAT(Runs("run_id = 'c'"), ElementsAre("c"));
  EXPECT_THAT(Runs("attributes.run_id IN ('e', 'a', 'zz')"), ElementsAre("a", "e"));
  EXPECT_THAT(Runs("run_id NOT IN ('e', 'a')"), ElementsAre("b", "c", "d"));
  EXPECT_THAT(Runs("run_name = 'beta'"), ElementsAre("b"));
  EXPECT_THAT(Runs("run_name != 'beta'"), ElementsAre("a", "c", "d", "e"));
  EXPECT_THAT(Runs("status = 'FINISHED'"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("status IN ('RUNNING', 'KILLED')"), ElementsAre("b", "e"));
  EXPECT_THAT(Runs("user_id LIKE 'b%'"), ElementsAre("b"));
  EXPECT_THAT(Runs("user_id ILIKE 'b%'"), ElementsAre("b", "e"));
  EXPECT_THAT(Runs("artifact_uri LIKE 's3://%'"), ElementsAre("a"));
  EXPECT_THAT(Runs("lifecycle_stage = 'deleted'"), ElementsAre("e"));
}

TEST_F(SearchFilterTest, NumericAttributes) {
  EXPECT_THAT(Runs("start_time >= 3000"), ElementsAre("c", "d", "e"));
  EXPECT_THAT(Runs("attributes.start_time <= 2000"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("start_time = 2000.0"), ElementsAre("b"));
  EXPECT_THAT(Runs("created < 2500"), ElementsAre("a", "b"));
  EXPECT_THAT(Runs("Created = 1000"), ElementsAre("a"));
  EXPECT_THAT(Runs("start_time != 1000"), ElementsAre("b", "c", "d", "e"));
  EXPECT_THAT(Runs("end_time > 2000"), ElementsAre("c", "d"));
  EXPECT_THAT(Runs("end_time < 9999999999999"), ElementsAre("a", "c", "d"));
}

// mltrack's duration: end_time - start_time, in ms. a 1000, b none, c 500, d 1000, e none.
TEST_F(SearchFilterTest, DurationIsEndMinusStartAndNullWhileTheRunHasNoEnd) {
  EXPECT_THAT(Runs("attributes.duration = 1000"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("duration < 1000"), ElementsAre("c"));
  EXPECT_THAT(Runs("run.duration >= 500"), ElementsAre("a", "c", "d"));
  EXPECT_THAT(Runs("attributes.duration != 500"), ElementsAre("a", "d"));  // not the endless
  EXPECT_THAT(Runs("attributes.duration > 0.75e3"), ElementsAre("a", "d"));
  EXPECT_THAT(Runs("attributes.duration <= 999.5"), ElementsAre("c"));
  EXPECT_THAT(Runs("attributes.duration IS NULL"), ElementsAre("b", "e"));
  EXPECT_THAT(Runs("attributes.duration IS NOT NULL AND params.model LIKE 'tree%'"),
              ElementsAre("a", "d"));
}

TEST_F(SearchFilterTest, OrderByDurationPutsRunsWithoutAnEndLastBothWays) {
  // a and d tie on 1000 ms, and b and e have no end: start_time DESC breaks both ties.
  EXPECT_THAT(Runs("", {"attributes.duration"}), ElementsAre("c", "d", "a", "e", "b"));
  EXPECT_THAT(Runs("", {"attributes.duration DESC"}), ElementsAre("d", "a", "c", "e", "b"));
  EXPECT_THAT(Runs("", {"duration DESC", "start_time ASC"}),
              ElementsAre("a", "d", "c", "b", "e"));
  EXPECT_THAT(Runs("status = 'FINISHED'", {"attributes.duration DESC", "run_id DESC"}),
              ElementsAre("d", "a"));
}

// The leaderboard lists top-level runs with this filter.
TEST_F(SearchFilterTest, ParentRunIdIsNullListsTopLevelRuns) {
  db_.Transaction([&] {
    db_.Exec("INSERT INTO tags(run_id, key, value) VALUES (12, 'mlflow.parentRunId', 'a'), "
             "(13, 'mlflow.parentRunId', 'a'), (14, 'mlflow.parentRunIdx', 'a')");
  });
  EXPECT_THAT(Runs("tags.mlflow.parentRunId IS NULL"), ElementsAre("a", "d", "e"));
  EXPECT_THAT(Runs("tags.`mlflow.parentRunId` IS NULL AND status = 'FINISHED'"),
              ElementsAre("a", "d"));
  EXPECT_THAT(Runs("tags.mlflow.parentRunId IS NOT NULL"), ElementsAre("b", "c"));
  EXPECT_THAT(Runs("tags.mlflow.parentRunId = 'a'", {"start_time DESC"}), ElementsAre("c", "b"));
}

TEST_F(SearchFilterTest, AndBindsTighterThanOr) {
  EXPECT_THAT(Runs("status = 'RUNNING' OR status = 'FINISHED' AND start_time < 1500"),
              ElementsAre("a", "b"));
  EXPECT_THAT(Runs("(status = 'RUNNING' OR status = 'FINISHED') AND start_time < 1500"),
              ElementsAre("a"));
  EXPECT_THAT(
      Runs("start_time < 1500 AND status = 'FINISHED' or run_id = 'e' and end_time is null"),
      ElementsAre("a", "e"));
  EXPECT_THAT(Runs("metrics.rmse < 1 and params.model = 'tree'"), ElementsAre("a"));
  EXPECT_THAT(Runs("metrics.rmse < 1 AnD params.model LIKE 'tree%' aNd tags.mlflow.user = 'alice'"),
              ElementsAre("a", "d"));
  EXPECT_THAT(Runs("((run_id = 'a')) OR (run_id = 'b' OR (run_id = 'c' AND status = 'FAILED'))"),
              ElementsAre("a", "b", "c"));
  EXPECT_THAT(Runs("metrics.rmse IS NULL OR metrics.rmse > 1"), ElementsAre("b", "e"));
}

TEST_F(SearchFilterTest, OrderByMetricPutsNaNThenMissingLastBothWays) {
  EXPECT_THAT(Runs("", {"metrics.rmse"}), ElementsAre("d", "a", "b", "c", "e"));
  EXPECT_THAT(Runs("", {"metrics.rmse ASC"}), ElementsAre("d", "a", "b", "c", "e"));
  EXPECT_THAT(Runs("", {"metrics.rmse DESC"}), ElementsAre("b", "a", "d", "c", "e"));
  EXPECT_THAT(Runs("", {"metric.`rmse` desc"}), ElementsAre("b", "a", "d", "c", "e"));
  EXPECT_THAT(Runs("", {"metrics.unused DESC"}), ElementsAre("e", "d", "c", "b", "a"));
}

TEST_F(SearchFilterTest, OrderByParamTagAndAttributePutsMissingLast) {
  EXPECT_THAT(Runs("", {"params.model"}), ElementsAre("b", "c", "a", "d", "e"));  // bytewise
  EXPECT_THAT(Runs("", {"params.model DESC"}), ElementsAre("d", "a", "c", "b", "e"));
  // a and d tie on alice: start_time DESC breaks it.
  EXPECT_THAT(Runs("", {"tags.\"mlflow.user\" DESC"}), ElementsAre("c", "b", "d", "a", "e"));
  EXPECT_THAT(Runs("", {"tags.mlflow.user ASC"}), ElementsAre("d", "a", "b", "c", "e"));
  EXPECT_THAT(Runs("", {"end_time"}), ElementsAre("a", "c", "d", "e", "b"));
  EXPECT_THAT(Runs("", {"end_time DESC"}), ElementsAre("d", "c", "a", "e", "b"));
  EXPECT_THAT(Runs("", {"run_name"}), ElementsAre("c", "a", "b", "d", "e"));
  EXPECT_THAT(Runs("", {"attributes.user_id DESC"}), ElementsAre("c", "b", "d", "a", "e"));
  EXPECT_THAT(Runs("", {"created DESC"}), ElementsAre("e", "d", "c", "b", "a"));
}

TEST_F(SearchFilterTest, OrderByManyKeysAppliesThemInTurn) {
  EXPECT_THAT(Runs("", {"metrics.acc DESC", "start_time ASC"}),
              ElementsAre("e", "a", "b", "c", "d"));
  EXPECT_THAT(Runs("", {"metrics.acc DESC", "run_name DESC"}),
              ElementsAre("e", "b", "a", "c", "d"));
  EXPECT_THAT(Runs("", {"status", "params.model DESC", "metrics.rmse"}),
              ElementsAre("c", "d", "a", "e", "b"));
  EXPECT_THAT(Runs("metrics.rmse < 1 and params.model LIKE 'tree%'", {"metrics.rmse DESC"}),
              ElementsAre("a", "d"));
}

TEST_F(SearchFilterTest, RunTieBreakersAreStartTimeDescThenRunIdAsc) {
  EXPECT_EQ(CompileRunOrder({}).order_by, "r.start_time DESC, r.run_uuid ASC");
  EXPECT_EQ(CompileRunOrder({"start_time"}).order_by, "r.start_time ASC, r.run_uuid ASC");
  EXPECT_EQ(CompileRunOrder({"run_id DESC"}).order_by, "r.run_uuid DESC, r.start_time DESC");
  db_.Transaction([&] {
    db_.Exec(
        "INSERT INTO runs(id, run_uuid, experiment_id, name, user_id, status, start_time,"
        " artifact_uri, lifecycle_stage) VALUES (21, 'x2', 0, 'x', 'u', 'RUNNING', 5000, '',"
        " 'active'), (22, 'x1', 0, 'x', 'u', 'RUNNING', 5000, '', 'active')");
  });
  EXPECT_THAT(Runs("", {}), ElementsAre("e", "x1", "x2", "d", "c", "b", "a"));
  EXPECT_THAT(Runs("", {"metrics.rmse DESC"}), ElementsAre("b", "a", "d", "c", "e", "x1", "x2"));
}

TEST_F(SearchFilterTest, ExperimentFilter) {
  EXPECT_THAT(Experiments(""), ElementsAre("0", "1", "2", "3"));
  EXPECT_THAT(Experiments("name = 'Alpha'"), ElementsAre("2"));
  EXPECT_THAT(Experiments("attribute.name LIKE 'alpha'"), IsEmpty());
  EXPECT_THAT(Experiments("name ILIKE 'alpha'"), ElementsAre("2"));
  EXPECT_THAT(Experiments("name IN ('gamma', 'Default')"), ElementsAre("0", "3"));
  EXPECT_THAT(Experiments("creation_time < 250"), ElementsAre("1", "2"));
  EXPECT_THAT(Experiments("attributes.last_update_time = 300"), ElementsAre("1", "3"));
  EXPECT_THAT(Experiments("tags.team = 'ml'"), ElementsAre("1"));
  EXPECT_THAT(Experiments("tag.team ILIKE 'ml'"), ElementsAre("1", "2"));
  EXPECT_THAT(Experiments("tags.team != 'ml'"), ElementsAre("2"));
  EXPECT_THAT(Experiments("tags.team IS NULL"), ElementsAre("0", "3"));
  EXPECT_THAT(Experiments("tags.team IS NULL OR name = 'Alpha' AND creation_time > 50"),
              ElementsAre("0", "2", "3"));
}

TEST_F(SearchFilterTest, ExperimentOrder) {
  EXPECT_EQ(CompileExperimentOrder({}).order_by, "e.creation_time DESC, e.experiment_id ASC");
  EXPECT_THAT(Experiments("", {}), ElementsAre("0", "3", "1", "2"));
  EXPECT_THAT(Experiments("", {"name"}), ElementsAre("2", "0", "1", "3"));
  // 1 and 3 tie on 300: MLflow's tie-breaker is experiment_id DESC.
  EXPECT_THAT(Experiments("", {"last_update_time DESC"}), ElementsAre("0", "2", "3", "1"));
  EXPECT_THAT(Experiments("", {"experiment_id DESC"}), ElementsAre("3", "2", "1", "0"));
  EXPECT_THAT(Experiments("", {"tags.team DESC"}), ElementsAre("1", "2", "3", "0"));
}

TEST_F(SearchFilterTest, UserTextIsBoundNeverSplicedIntoSql) {
  const std::string value = "x' OR '1'='1";
  const std::string key = "it's \"odd\"";
  sqlite::SqlFragment filter =
      CompileRunFilter("params.`it's \"odd\"` = \"x' OR '1'='1\" OR run_name LIKE 'DROP%'");
  EXPECT_THAT(filter.sql, Not(HasSubstr("odd")));
  EXPECT_THAT(filter.sql, Not(HasSubstr("'1'")));
  EXPECT_THAT(filter.sql, Not(HasSubstr("DROP")));
  EXPECT_THAT(filter.binds, ElementsAre(sqlite::SqlValue(key), sqlite::SqlValue(value),
                                        sqlite::SqlValue("DROP*")));
  EXPECT_THAT(Runs("params.`it's \"odd\"` = \"x' OR '1'='1\""), ElementsAre("a"));
  EXPECT_THAT(Runs("run_name = \"x' OR '1'='1\""), IsEmpty());

  CompiledOrder order = CompileRunOrder({"tags.`x'); DROP TABLE runs; --` DESC"});
  EXPECT_THAT(order.joins + order.order_by, Not(HasSubstr("DROP")));
  EXPECT_THAT(order.join_binds, ElementsAre(sqlite::SqlValue("x'); DROP TABLE runs; --")));
  EXPECT_THAT(Runs("", {"tags.`x'); DROP TABLE runs; --` DESC"}),
              ElementsAre("e", "d", "c", "b", "a"));
}

// The benchmark's query (metric filter, param filter, order by a metric) must find its rows by
// primary keys and indexes: the only full scan is of the runs themselves.
TEST_F(SearchFilterTest, KeyedLookupsUsePrimaryKeysAndIndexes) {
  sqlite::SqlFragment filter = CompileRunFilter("metrics.m0 < 1 and params.p0 = \"tree\"");
  CompiledOrder order = CompileRunOrder({"metrics.m1 DESC"});
  std::string sql = fmt::format(
      "EXPLAIN QUERY PLAN SELECT r.run_uuid FROM runs r {} WHERE r.experiment_id IN (0) AND "
      "r.lifecycle_stage = 'active' AND {} ORDER BY {} LIMIT 100",
      order.joins, filter.sql, order.order_by);
  std::vector<std::string> plan;
  db_.ReadTransaction([&] {
    plan.clear();
    sqlite::Statement& stmt = db_.Prepare(sql);
    stmt.BindAll(order.join_binds);
    stmt.BindAll(filter.binds, 1 + static_cast<int>(order.join_binds.size()));
    while (stmt.Step()) plan.push_back(stmt.Text(3));
  });
  for (const std::string& step : plan) {
    if (step.rfind("SCAN ", 0) == 0) {
      EXPECT_EQ(step, "SCAN r");
    }
  }
  EXPECT_THAT(plan, Contains(HasSubstr("USING PRIMARY KEY (run_id=? AND key_id=?)")));
  EXPECT_THAT(plan, Contains(HasSubstr("USING PRIMARY KEY (run_id=? AND key=?)")));
}

struct BadInput {
  std::string text;
  std::string message;
};

constexpr const char* kRunKeys =
    "Valid keys are ['Created', 'artifact_uri', 'created', 'duration', 'end_time', "
    "'lifecycle_stage', 'run_id', 'run_name', 'start_time', 'status', 'user_id']";
constexpr const char* kAnyComparator =
    "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL)";
constexpr const char* kNumericComparators =
    "Valid comparators are ['=', '!=', '<', '<=', '>', '>=', 'IS NULL', 'IS NOT NULL']";

TEST(SearchFilterErrors, MalformedRunFiltersSayWhatWasExpectedAndWhere) {
  const std::vector<BadInput> cases = {
      {"metrics.rmse <",
       "expected a number for metric 'rmse' after '<', found end of input at position 15"},
      {"metric_x.a = 1",
       "unknown entity type 'metric_x' at position 1. "
       "Valid values are ['metric', 'parameter', 'tag', 'attribute']"},
      {"run_id = 'a' and foo = 'x'",
       fmt::format("unknown attribute key 'foo' at position 18. {}", kRunKeys)},
      {"metrics.rmse = 'abc'",
       "expected a number for metric 'rmse' after '=', found string 'abc' at position 16"},
      {"params.lr = 0.1",
       "expected a quoted string for parameter 'lr' after '=', found '0.1' at position 13"},
      {"params.model = tree",
       "expected a quoted string for parameter 'model' after '=', found 'tree' at position 16"},
      {"start_time > 'yesterday'",
       "expected a number for attribute 'start_time' after '>', found string 'yesterday' at "
       "position 14"},
      {"metrics.rmse LIKE '1'",
       fmt::format("comparator 'LIKE' is not valid for metric 'rmse' at position 14. {}",
                   kNumericComparators)},
      {"metrics.rmse IN (1, 2)",
       fmt::format("comparator 'IN' is not valid for metric 'rmse' at position 14. {}",
                   kNumericComparators)},
      {"end_time not in (1)",
       fmt::format("comparator 'NOT IN' is not valid for attribute 'end_time' at position 10. {}",
                   kNumericComparators)},
      {"attributes.duration = '5'",
       "expected a number for attribute 'duration' after '=', found string '5' at position 23"},
      {"duration LIKE '1%'",
       fmt::format("comparator 'LIKE' is not valid for attribute 'duration' at position 10. {}",
                   kNumericComparators)},
      {"params.lr >= '1'",
       "comparator '>=' is not valid for parameter 'lr' at position 11. Valid comparators are "
       "['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL']"},
      {"params.model = 'tree", "unterminated quoted string at position 16"},
      {"tags.`mlflow.user = 'x'", "unterminated quoted string at position 6"},
      {"(metrics.rmse < 1", "unclosed '(' at position 1"},
      {"(run_id = 'a' OR (run_id = 'b')", "unclosed '(' at position 1"},
      {"metrics.rmse < 1)", "unmatched ')' at position 17"},
      {"metrics.rmse < 1 foo",
       "expected AND, OR or end of input after '1', found 'foo' at position 18"},
      {"(run_id = 'a' foo)", "expected AND, OR or ')' after 'a', found 'foo' at position 15"},
      {"run_id IN ()", "expected at least one value after '(', found ')' at position 12"},
      {"run_id IN ('a' 'b')", "expected ',' or ')' after 'a', found string 'b' at position 16"},
      {"run_id IN 'a'", "expected '(' after 'IN', found string 'a' at position 11"},
      {"run_id IN ('a',",
       "expected a quoted string for attribute 'run_id' after ',', found end of input at "
       "position 16"},
      {"metrics.rmse <> 1",
       fmt::format("expected {} after 'metrics.rmse', found '<>' at position 14", kAnyComparator)},
      {"metrics.rmse",
       fmt::format("expected {} after 'metrics.rmse', found end of input at position 13",
                   kAnyComparator)},
      {"metrics.rmse < 1 AND",
       "expected a key or '(' after 'AND', found end of input at position 21"},
      {"metrics.rmse < 1 OR ()", "expected a key or '(' after '(', found ')' at position 22"},
      {"params.model IS 'x'",
       "expected NULL or NOT NULL after 'IS', found string 'x' at position 17"},
      {"params.model is not nul", "expected NULL after 'not', found 'nul' at position 21"},
      {"params.model NOT LIKE 'x'", "expected IN after 'NOT', found 'LIKE' at position 18"},
      {"metrics.rmse < 1abc",
       "expected a number for metric 'rmse' after '<', found '1abc' at position 16"},
      {"metrics.rmse < 1.2.3",
       "expected a number for metric 'rmse' after '<', found '1.2.3' at position 16"},
      {"'start_time' = 1", "expected a key or '(', found string 'start_time' at position 1"},
      {"= 1", "expected a key or '(', found '=' at position 1"},
      {"metrics.= 1", "expected a metric name after 'metrics.', found '=' at position 9"},
      {"params. x = 'a'",
       "expected a parameter name after 'params.', found whitespace at position 8"},
      // Positions count characters, not bytes.
      {"tags.\"\xC3\xA9\" = 'x' x",
       "expected AND, OR or end of input after 'x', found 'x' at position 16"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_ERROR(CompileRunFilter(c.text), ErrorCode::kInvalidParameterValue,
                 Eq(fmt::format("Invalid filter '{}': {}", c.text, c.message)));
  }
}

TEST(SearchFilterErrors, BadOrderClausesAreNamed) {
  const std::vector<BadInput> cases = {
      {"metrics.rmse UP",
       "expected ASC, DESC or end of clause after 'metrics.rmse', found 'UP' at position 14"},
      {"metrics.rmse, params.x",
       "expected ASC, DESC or end of clause after 'metrics.rmse', found ',' at position 13"},
      {"metrics.rmse DESC x", "expected end of clause after 'DESC', found 'x' at position 19"},
      {"", "expected a key, found end of input at position 1"},
      {"foo DESC", fmt::format("unknown attribute key 'foo' at position 1. {}", kRunKeys)},
      {"datasets.name",
       "unknown entity type 'datasets' at position 1. "
       "Valid values are ['metric', 'parameter', 'tag', 'attribute']"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_ERROR(CompileRunOrder({"start_time", c.text}), ErrorCode::kInvalidParameterValue,
                 Eq(fmt::format("Invalid order_by clause '{}': {}", c.text, c.message)));
  }
  EXPECT_ERROR(CompileRunOrder({"metrics.rmse", "metric.rmse DESC"}),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid order_by clause 'metric.rmse DESC': metric 'rmse' appears more than "
                  "once in order_by at position 1"));
  EXPECT_ERROR(CompileRunOrder({"start_time", "created DESC"}),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid order_by clause 'created DESC': attribute 'created' appears more than "
                  "once in order_by at position 1"));
}

TEST(SearchFilterErrors, ExperimentsHaveTheirOwnKeys) {
  EXPECT_ERROR(CompileExperimentFilter("metrics.x < 1"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid filter 'metrics.x < 1': unknown entity type 'metrics' at position 1. "
                  "Valid values are ['attribute', 'tag']"));
  EXPECT_ERROR(CompileExperimentFilter("experiment_id = 1"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid filter 'experiment_id = 1': unknown attribute key 'experiment_id' at "
                  "position 1. Valid keys are ['creation_time', 'last_update_time', 'name']"));
  EXPECT_ERROR(CompileExperimentFilter("name > 'a'"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid filter 'name > 'a'': comparator '>' is not valid for attribute 'name' "
                  "at position 6. Valid comparators are ['=', '!=', 'LIKE', 'ILIKE', 'IN', "
                  "'NOT IN', 'IS NULL', 'IS NOT NULL']"));
  EXPECT_ERROR(CompileExperimentOrder({"params.x"}), ErrorCode::kInvalidParameterValue,
               Eq("Invalid order_by clause 'params.x': unknown entity type 'params' at position "
                  "1. Valid values are ['attribute', 'tag']"));
  EXPECT_ERROR(CompileExperimentOrder({"lifecycle_stage"}), ErrorCode::kInvalidParameterValue,
               Eq("Invalid order_by clause 'lifecycle_stage': unknown attribute key "
                  "'lifecycle_stage' at position 1. Valid keys are ['creation_time', "
                  "'experiment_id', 'last_update_time', 'name']"));
}

TEST(SearchAst, AndGroupsUnderOr) {
  search::EntitySpec entity{{{"tags", search::KeyKind::kTag}}, "['tag']", {{"a", "t.a"}}};
  search::Expr expr = search::ParseFilter("a = 'x' OR a = 'y' AND tags.k IS NULL", entity);
  ASSERT_EQ(expr.kind, search::Expr::Kind::kOr);
  ASSERT_EQ(expr.operands.size(), 2u);
  EXPECT_EQ(expr.operands[0].kind, search::Expr::Kind::kComparison);
  ASSERT_EQ(expr.operands[1].kind, search::Expr::Kind::kAnd);
  const search::Comparison& last = expr.operands[1].operands[1].comparison;
  EXPECT_EQ(last.key.kind, search::KeyKind::kTag);
  EXPECT_EQ(last.key.name, "k");
  EXPECT_EQ(last.key.position, 24u);
  EXPECT_EQ(last.op, search::Comparator::kIsNull);
}

}  // namespace
}  // namespace mltrack::tracking
