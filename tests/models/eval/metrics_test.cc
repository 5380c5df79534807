#include "models/eval/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "support/test_support.h"

// Reference values marked "sklearn" were computed once with scikit-learn 1.2.1 (Debian
// python3-sklearn) by the call named next to them; the others are derived by hand in the comment.
namespace mltrack::eval {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using I = std::vector<int32_t>;
using D = std::vector<double>;

constexpr ErrorCode kInvalid = ErrorCode::kInvalidParameterValue;

// --- Accuracy, ConfusionMatrix ----------------------------------------------------------------

// sklearn: t = [0,1,2,2,1,0,2], p = [0,2,2,1,1,0,0].
const I kTruth = {0, 1, 2, 2, 1, 0, 2};
const I kPredicted = {0, 2, 2, 1, 1, 0, 0};

TEST(Accuracy, IsTheShareOfExactMatches) {
  EXPECT_DOUBLE_EQ(Accuracy(kTruth, kPredicted), 4.0 / 7.0);  // accuracy_score: 0.5714285714285714
  EXPECT_EQ(Accuracy(I{1}, I{1}), 1.0);
  EXPECT_EQ(Accuracy(I{1, 0}, I{0, 1}), 0.0);
}

TEST(Accuracy, RejectsBadInput) {
  EXPECT_ERROR(Accuracy(I{}, I{}), kInvalid, Eq("Accuracy: empty input"));
  EXPECT_ERROR(Accuracy(I{0, 1, 1}, I{0, 1}), kInvalid,
               Eq("Accuracy: truth has 3 values but predicted has 2"));
}

TEST(ConfusionMatrix, CountsTruthRowsByPredictedColumns) {
  // sklearn confusion_matrix(t, p, labels=[0, 1, 2]) = [[2 0 0] [0 1 1] [1 1 1]].
  EXPECT_THAT(ConfusionMatrix(kTruth, kPredicted, 3), ElementsAre(2, 0, 0, 0, 1, 1, 1, 1, 1));
  // A class present in neither keeps its zero row and column.
  EXPECT_THAT(ConfusionMatrix(I{0, 0}, I{0, 1}, 3), ElementsAre(1, 1, 0, 0, 0, 0, 0, 0, 0));
}

TEST(ConfusionMatrix, RejectsBadInput) {
  EXPECT_ERROR(ConfusionMatrix(I{}, I{}, 2), kInvalid, Eq("ConfusionMatrix: empty input"));
  EXPECT_ERROR(ConfusionMatrix(I{0}, I{0, 1}, 2), kInvalid,
               Eq("ConfusionMatrix: truth has 1 values but predicted has 2"));
  EXPECT_ERROR(ConfusionMatrix(I{0, 1, 1, 0, 1}, I{0, 1, 1, 0, 3}, 2), kInvalid,
               Eq("ConfusionMatrix: predicted[4] = 3 is not a class index (0 .. 1)"));
  EXPECT_ERROR(ConfusionMatrix(I{0, -1}, I{0, 1}, 2), kInvalid,
               Eq("ConfusionMatrix: truth[1] = -1 is not a class index (0 .. 1)"));
  EXPECT_ERROR(ConfusionMatrix(I{0}, I{0}, 0), kInvalid,
               Eq("ConfusionMatrix: classes must be >= 1, got 0"));
}

// --- PrecisionRecallF1 ------------------------------------------------------------------------

TEST(PrecisionRecallF1, MatchesSklearnPerClassAndAveraged) {
  ClassScores s = PrecisionRecallF1(kTruth, kPredicted, 3);
  // sklearn precision_recall_fscore_support(t, p, labels=[0,1,2], zero_division=0):
  // precision [2/3, 1/2, 1/2], recall [1, 1/2, 1/3], f1 [0.8, 0.5, 0.4], support [2, 2, 3].
  EXPECT_THAT(s.support, ElementsAre(2, 2, 3));
  ASSERT_EQ(s.precision.size(), 3u);
  EXPECT_DOUBLE_EQ(s.precision[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(s.precision[2], 0.5);
  EXPECT_DOUBLE_EQ(s.recall[0], 1.0);
  EXPECT_DOUBLE_EQ(s.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(s.recall[2], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.f1[0], 0.8);
  EXPECT_DOUBLE_EQ(s.f1[1], 0.5);
  EXPECT_DOUBLE_EQ(s.f1[2], 0.4);
  // average="macro": (0.5555555555555555, 0.611111111111111, 0.5666666666666668).
  EXPECT_DOUBLE_EQ(s.macro_precision, 0.5555555555555555);
  EXPECT_DOUBLE_EQ(s.macro_recall, 0.611111111111111);
  EXPECT_DOUBLE_EQ(s.macro_f1, 0.5666666666666668);
  // average="weighted": f1 0.5428571428571429 = (2*0.8 + 2*0.5 + 3*0.4) / 7.
  EXPECT_DOUBLE_EQ(s.weighted_f1, 0.5428571428571429);
}

TEST(PrecisionRecallF1, UndefinedScoresAreZero) {
  // Class 2 is never predicted (precision 0/0), class 3 is in neither (everything 0/0).
  // sklearn precision_recall_fscore_support([0,1,2,0], [0,1,1,0], labels=[0,1,2,3],
  // zero_division=0): precision [1, .5, 0, 0], recall [1, 1, 0, 0], f1 [1, 2/3, 0, 0];
  // macro (0.375, 0.5, 0.41666666666666663), weighted f1 0.6666666666666666.
  ClassScores s = PrecisionRecallF1(I{0, 1, 2, 0}, I{0, 1, 1, 0}, 4);
  EXPECT_THAT(s.precision, ElementsAre(1.0, 0.5, 0.0, 0.0));
  EXPECT_THAT(s.recall, ElementsAre(1.0, 1.0, 0.0, 0.0));
  ASSERT_EQ(s.f1.size(), 4u);
  EXPECT_DOUBLE_EQ(s.f1[0], 1.0);
  EXPECT_DOUBLE_EQ(s.f1[1], 2.0 / 3.0);
  EXPECT_EQ(s.f1[2], 0.0);
  EXPECT_EQ(s.f1[3], 0.0);
  EXPECT_THAT(s.support, ElementsAre(2, 1, 1, 0));
  EXPECT_DOUBLE_EQ(s.macro_precision, 0.375);
  EXPECT_DOUBLE_EQ(s.macro_recall, 0.5);
  EXPECT_DOUBLE_EQ(s.macro_f1, 0.41666666666666663);
  EXPECT_DOUBLE_EQ(s.weighted_f1, 0.6666666666666666);
}

TEST(PrecisionRecallF1, RejectsBadInput) {
  EXPECT_ERROR(PrecisionRecallF1(I{}, I{}, 2), kInvalid, Eq("PrecisionRecallF1: empty input"));
  EXPECT_ERROR(PrecisionRecallF1(I{0, 1}, I{0}, 2), kInvalid,
               Eq("PrecisionRecallF1: truth has 2 values but predicted has 1"));
  EXPECT_ERROR(PrecisionRecallF1(I{0, 2}, I{0, 1}, 2), kInvalid,
               Eq("PrecisionRecallF1: truth[1] = 2 is not a class index (0 .. 1)"));
  EXPECT_ERROR(PrecisionRecallF1(I{0, 1}, I{0, 5}, 2), kInvalid,
               Eq("PrecisionRecallF1: predicted[1] = 5 is not a class index (0 .. 1)"));
  EXPECT_ERROR(PrecisionRecallF1(I{0}, I{0}, -3), kInvalid,
               Eq("PrecisionRecallF1: classes must be >= 1, got -3"));
}

// --- LogLoss ----------------------------------------------------------------------------------

TEST(LogLoss, IsTheMeanNegativeLogOfTheTrueClassProbability) {
  const D probabilities = {0.7, 0.2, 0.1,  //
                           0.1, 0.8, 0.1,  //
                           0.2, 0.3, 0.5,  //
                           0.4, 0.4, 0.2};
  // -(log 0.7 + log 0.8 + log 0.5 + log 0.4) / 4; sklearn log_loss([0,1,2,1], p, labels=[0,1,2])
  // = 0.5473141019217606 (1.2.1 renormalises rows, one ulp away).
  EXPECT_NEAR(LogLoss(I{0, 1, 2, 1}, probabilities, 3),
              -(std::log(0.7) + std::log(0.8) + std::log(0.5) + std::log(0.4)) / 4, 1e-15);
  EXPECT_NEAR(LogLoss(I{0, 1, 2, 1}, probabilities, 3), 0.5473141019217606, 1e-15);
}

TEST(LogLoss, ClipsProbabilitiesToOneEMinus15) {
  // A certain miss costs -log(1e-15) = 34.538776394910684, a certain hit -log(1 - 1e-15).
  EXPECT_DOUBLE_EQ(LogLoss(I{0}, D{0.0, 1.0}, 2), -std::log(1e-15));
  EXPECT_DOUBLE_EQ(LogLoss(I{0}, D{0.0, 1.0}, 2), 34.538776394910684);
  EXPECT_DOUBLE_EQ(LogLoss(I{1}, D{0.0, 1.0}, 2), -std::log(1 - 1e-15));
  EXPECT_DOUBLE_EQ(LogLoss(I{0, 1}, D{0.0, 1.0, 0.0, 1.0}, 2),
                   (-std::log(1e-15) - std::log(1 - 1e-15)) / 2);
}

TEST(LogLoss, RejectsBadInput) {
  EXPECT_ERROR(LogLoss(I{0, 1, 1}, D(8, 0.5), 2), kInvalid,
               Eq("LogLoss: truth has 3 rows but probabilities has 8 values (expected 3 x 2)"));
  EXPECT_ERROR(LogLoss(I{}, D{}, 2), kInvalid, Eq("LogLoss: empty input"));
  EXPECT_ERROR(LogLoss(I{0, 2}, D(4, 0.5), 2), kInvalid,
               Eq("LogLoss: truth[1] = 2 is not a class index (0 .. 1)"));
  EXPECT_ERROR(LogLoss(I{0}, D{1.0}, 1), kInvalid, Eq("LogLoss: classes must be >= 2, got 1"));
  EXPECT_ERROR(LogLoss(I{0, 1}, D{0.5, 0.5, NAN, 0.5}, 2), kInvalid,
               Eq("LogLoss: probabilities[2] is NaN"));
}

// --- RocAuc, RocAucOvr ------------------------------------------------------------------------

TEST(RocAuc, CountsPositivesRankedAboveNegatives) {
  EXPECT_EQ(RocAuc(I{0, 0, 1, 1}, D{0.1, 0.2, 0.3, 0.4}), 1.0);
  EXPECT_EQ(RocAuc(I{1, 1, 0, 0}, D{0.1, 0.2, 0.3, 0.4}), 0.0);
  // Pairs (pos, neg): (0.35: 0.1 yes, 0.4 no) (0.8: 0.1, 0.4 yes) -> 3 of 4.
  EXPECT_EQ(RocAuc(I{0, 1, 0, 1}, D{0.1, 0.35, 0.4, 0.8}), 0.75);
}

TEST(RocAuc, TiesGetHalfCredit) {
  // Positives 0.35, 0.8, 0.4, 0.9 against negatives 0.1, 0.4, 0.4, 0.2: 2 + 4 + (2 + 2 * 0.5)
  // + 4 = 13 of 16. sklearn roc_auc_score(yt, ys) = 0.8125.
  EXPECT_EQ(RocAuc(I{0, 0, 1, 1, 0, 1, 0, 1}, D{0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9}), 0.8125);
  // All scores equal: every pair is a tie.
  EXPECT_EQ(RocAuc(I{0, 1, 1, 0, 1}, D(5, 0.3)), 0.5);
}

TEST(RocAuc, RejectsBadInput) {
  EXPECT_ERROR(RocAuc(I{1, 1, 1}, D{0.1, 0.5, 0.9}), kInvalid,
               Eq("RocAuc: only one class is present in truth"));
  EXPECT_ERROR(RocAuc(I{0}, D{0.1}), kInvalid, Eq("RocAuc: only one class is present in truth"));
  EXPECT_ERROR(RocAuc(I{}, D{}), kInvalid, Eq("RocAuc: empty input"));
  EXPECT_ERROR(RocAuc(I{0, 1}, D{0.1}), kInvalid,
               Eq("RocAuc: truth has 2 values but positive_scores has 1"));
  EXPECT_ERROR(RocAuc(I{0, 1, 2}, D{0.1, 0.2, 0.3}), kInvalid,
               Eq("RocAuc: truth[2] = 2 is not a class index (0 .. 1)"));
  EXPECT_ERROR(RocAuc(I{0, 1}, D{0.1, NAN}), kInvalid, Eq("RocAuc: positive_scores[1] is NaN"));
}

TEST(RocAuc, IsFastOnAMillionRows) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t n = 1'000'000;
  I truth(n);
  D scores(n);
  for (size_t i = 0; i < n; ++i) {
    truth[i] = u(rng) < 0.3;
    // Rounded to 1/1000 so there are many ties; informative: positives score higher on average.
    scores[i] = std::round((u(rng) + 0.5 * truth[i]) * 1000) / 1000;
  }
  auto start = std::chrono::steady_clock::now();
  double auc = RocAuc(truth, scores);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(auc, 0.8);
  EXPECT_LT(auc, 0.95);
  EXPECT_LT(seconds, 2.0);
}

TEST(RocAucOvr, IsTheMeanOfOneVsRestAucs) {
  const D probabilities = {0.6, 0.3, 0.1,  //
                           0.2, 0.5, 0.3,  //
                           0.1, 0.2, 0.7,  //
                           0.3, 0.3, 0.4,  //
                           0.3, 0.4, 0.3,  //
                           0.5, 0.1, 0.4};
  // Per class 1, 1, 0.9375 (class 2: positives 0.7, 0.4 against 0.1, 0.3, 0.3, 0.4 -> 7.5 of 8).
  // sklearn roc_auc_score(yt, p, multi_class="ovr", average="macro") = 0.9791666666666666.
  EXPECT_DOUBLE_EQ(RocAucOvr(I{0, 1, 2, 2, 1, 0}, probabilities, 3), 0.9791666666666666);
}

TEST(RocAucOvr, TwoClassesIsTheBinaryAucOfColumnOne) {
  // sklearn roc_auc_score([0,1,1,0], p[:, 1]) = 0.75.
  EXPECT_EQ(RocAucOvr(I{0, 1, 1, 0}, D{0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.4, 0.6}, 2), 0.75);
}

TEST(RocAucOvr, RejectsBadInput) {
  EXPECT_ERROR(RocAucOvr(I{0, 1, 1}, D(8, 0.5), 2), kInvalid,
               Eq("RocAucOvr: truth has 3 rows but probabilities has 8 values (expected 3 x 2)"));
  EXPECT_ERROR(RocAucOvr(I{}, D{}, 3), kInvalid, Eq("RocAucOvr: empty input"));
  EXPECT_ERROR(RocAucOvr(I{0, 1, 0}, D(9, 0.3), 3), kInvalid,
               Eq("RocAucOvr: class 2 is not present in truth"));
  EXPECT_ERROR(RocAucOvr(I{0, 3}, D(6, 0.3), 3), kInvalid,
               Eq("RocAucOvr: truth[1] = 3 is not a class index (0 .. 2)"));
  EXPECT_ERROR(RocAucOvr(I{0}, D{1.0}, 1), kInvalid, Eq("RocAucOvr: classes must be >= 2, got 1"));
  EXPECT_ERROR(RocAucOvr(I{0, 1}, D{0.5, 0.5, NAN, 0.5}, 2), kInvalid,
               Eq("RocAucOvr: probabilities[2] is NaN"));
}

// --- regression -------------------------------------------------------------------------------

// sklearn on t = [3, -0.5, 2, 7], p = [2.5, 0, 2, 8]: errors 0.5, -0.5, 0, -1.
const D kY = {3.0, -0.5, 2.0, 7.0};
const D kYHat = {2.5, 0.0, 2.0, 8.0};

TEST(Rmse, IsTheRootMeanSquaredError) {
  // sqrt((0.25 + 0.25 + 0 + 1) / 4) = sqrt(0.375); sklearn mean_squared_error ** 0.5 =
  // 0.6123724356957945.
  EXPECT_DOUBLE_EQ(Rmse(kY, kYHat), std::sqrt(0.375));
  EXPECT_DOUBLE_EQ(Rmse(kY, kYHat), 0.6123724356957945);
  EXPECT_EQ(Rmse(kY, kY), 0.0);
}

TEST(Mae, IsTheMeanAbsoluteError) {
  EXPECT_EQ(Mae(kY, kYHat), 0.5);  // (0.5 + 0.5 + 0 + 1) / 4; sklearn mean_absolute_error 0.5
}

TEST(R2, IsOneMinusResidualOverTotalSumOfSquares) {
  // Mean 2.875; SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875, SS_res = 1.5:
  // 1 - 1.5 / 29.1875. sklearn r2_score = 0.9486081370449679.
  EXPECT_DOUBLE_EQ(R2(kY, kYHat), 1 - 1.5 / 29.1875);
  EXPECT_DOUBLE_EQ(R2(kY, kYHat), 0.9486081370449679);
  EXPECT_EQ(R2(kY, kY), 1.0);
  // Predicting the mean scores 0; worse than the mean is negative.
  EXPECT_DOUBLE_EQ(R2(D{1, 2, 3}, D{2, 2, 2}), 0.0);
  EXPECT_DOUBLE_EQ(R2(D{1, 2, 3}, D{3, 2, 1}), -3.0);  // 1 - 8 / 2
}

TEST(R2, ConstantTruthIsOneWhenExactElseZero) {
  // sklearn r2_score([2,2,2], [2,2,2]) = 1.0, r2_score([2,2,2], [2,2,2.5]) = 0.0.
  EXPECT_EQ(R2(D{2, 2, 2}, D{2, 2, 2}), 1.0);
  EXPECT_EQ(R2(D{2, 2, 2}, D{2, 2, 2.5}), 0.0);
}

TEST(Regression, RejectsBadInput) {
  EXPECT_ERROR(Rmse(D{}, D{}), kInvalid, Eq("Rmse: empty input"));
  EXPECT_ERROR(Mae(D{}, D{}), kInvalid, Eq("Mae: empty input"));
  EXPECT_ERROR(R2(D{}, D{}), kInvalid, Eq("R2: empty input"));
  EXPECT_ERROR(Rmse(D{1, 2}, D{1}), kInvalid, Eq("Rmse: truth has 2 values but predicted has 1"));
  EXPECT_ERROR(Mae(D{1}, D{1, 2}), kInvalid, Eq("Mae: truth has 1 values but predicted has 2"));
  EXPECT_ERROR(R2(D{1, 2, 3}, D{1}), kInvalid, Eq("R2: truth has 3 values but predicted has 1"));
}

}  // namespace
}  // namespace mltrack::eval
