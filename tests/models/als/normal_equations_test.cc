// The normal-equation kernels against a plain double loop: every kernel this CPU supports, every
// rating term, solved dimensions on both sides of the specialised range (d <= 16) and ratings
// counts around the chunk sizes. Also: the sums do not depend on where the rows live.
#include "models/als/normal_equations.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mltrack::als {
namespace {

struct Case {
  std::vector<double> rows;  // other side's rows, stride NormalEquationsStride
  std::vector<int32_t> index;
  std::vector<float> rating;
  int stride = 0;
};

Case MakeCase(int k, bool biased, int64_t n, int other_rows, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> value(-1, 1);
  Case c;
  c.stride = NormalEquationsStride(k, biased);
  c.rows.assign(static_cast<size_t>(other_rows) * c.stride, 0.0);
  for (int o = 0; o < other_rows; ++o) {
    double* row = c.rows.data() + static_cast<size_t>(o) * c.stride;
    for (int q = 0; q < k; ++q) row[q] = value(random);
    if (biased) {
      row[k] = 1;
      row[k + 1] = value(random);
    }
  }
  std::uniform_int_distribution<int32_t> pick(0, other_rows - 1);
  for (int64_t j = 0; j < n; ++j) {
    c.index.push_back(pick(random));
    // Ratings from -1 to 5 in halves, zeros included (implicit: p = 0 but confident).
    c.rating.push_back(static_cast<float>(static_cast<int>(random() % 13) - 2) / 2);
  }
  return c;
}

struct Sums {
  std::vector<double> g, b;
  double tt = 0;
};

// The definition, one rating at a time.
Sums Reference(const Case& c, const RatingTerms& terms) {
  const int d = terms.d;
  Sums s{std::vector<double>(static_cast<size_t>(d) * d, 0.0), std::vector<double>(d, 0.0), 0};
  for (size_t j = 0; j < c.index.size(); ++j) {
    const double* y = c.rows.data() + static_cast<size_t>(c.index[j]) * c.stride;
    const double r = c.rating[j];
    double weight = 1, t = r;
    if (terms.term == RatingTerm::kBiased) t = r - terms.mean - y[d];
    if (terms.term == RatingTerm::kImplicit) {
      weight = terms.alpha * std::fabs(r);
      t = r > 0 ? 1 + weight : 0;
    } else {
      s.tt += t * t;
    }
    for (int a = 0; a < d; ++a) {
      s.b[a] += t * y[a];
      for (int q = 0; q < d; ++q) s.g[static_cast<size_t>(q) * d + a] += weight * y[a] * y[q];
    }
  }
  return s;
}

Sums Accumulate(NormalEquationsFn accumulate, const Case& c, const RatingTerms& terms,
         const double* rows) {
  const int stride = c.stride;
  // Zeros, as a solve starts from.
  Sums s{std::vector<double>(static_cast<size_t>(stride) * stride, 0.0),
         std::vector<double>(stride, 0.0), 0};
  accumulate({rows, stride, c.index.data(), c.rating.data(),
              static_cast<int64_t>(c.index.size())},
             terms, s.g.data(), s.b.data(), &s.tt);
  return s;
}

void ExpectMatches(const Sums& want, const Sums& got, const Case& c, const RatingTerms& terms,
                   const std::string& label) {
  const int d = terms.d;
  const double scale = static_cast<double>(c.index.size()) * (1 + terms.alpha) * 8;
  for (int q = 0; q < d; ++q) {
    for (int a = 0; a <= q; ++a) {
      ASSERT_NEAR(got.g[static_cast<size_t>(q) * c.stride + a],
                  want.g[static_cast<size_t>(q) * d + a], 1e-12 * scale)
          << label << " g(" << a << ", " << q << ")";
    }
    ASSERT_NEAR(got.b[q], want.b[q], 1e-12 * scale) << label << " b(" << q << ")";
  }
  ASSERT_NEAR(got.tt, want.tt, 1e-12 * scale * 4) << label << " tt";
}

TEST(NormalEquations, EveryKernelMatchesTheDefinition) {
  std::set<std::string> checked;
  for (const NormalEquationsKernel& kernel : NormalEquationsKernels()) {
    if (!kernel.supported) continue;
    checked.insert(kernel.name);
    for (RatingTerm term : {RatingTerm::kExplicit, RatingTerm::kBiased, RatingTerm::kImplicit}) {
      const bool biased = term == RatingTerm::kBiased;
      for (int k : {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 20, 33}) {
        for (int64_t n : {0, 1, 5, 63, 64, 65, 200}) {
          const int d = k + (biased ? 1 : 0);
          Case c = MakeCase(k, biased, n, 50, static_cast<uint64_t>(k * 1000 + n));
          RatingTerms terms{term, d, 3.25, term == RatingTerm::kImplicit ? 2.5 : 0.0};
          const std::string label =
              fmt::format("{} term {} k {} n {}", kernel.name, static_cast<int>(term), k, n);
          ExpectMatches(Reference(c, terms), Accumulate(kernel.accumulate, c, terms, c.rows.data()),
                        c, terms, label);
        }
      }
    }
  }
  // The portable kernel is held to the definition everywhere, and so is the one in use here.
  EXPECT_TRUE(checked.count("portable"));
  EXPECT_TRUE(checked.count(ChosenNormalEquationsKernel())) << ChosenNormalEquationsKernel();
}

TEST(NormalEquations, EveryKernelSolvesPositiveDefiniteSystemsAndRefusesOthers) {
  std::mt19937_64 random(3);
  std::uniform_real_distribution<double> value(-1, 1);
  for (const NormalEquationsKernel& kernel : NormalEquationsKernels()) {
    if (!kernel.supported) continue;
    for (int d : {1, 2, 3, 5, 8, 10, 11, 16, 17, 30}) {
      const int ld = (d + 3) / 4 * 4;
      // A = MᵀM + I, upper triangle stored column-major; b = A x for a known x.
      std::vector<double> m(static_cast<size_t>(d) * d), a(static_cast<size_t>(d) * d);
      for (double& v : m) v = value(random);
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < d; ++j) {
          double sum = i == j ? 1.0 : 0.0;
          for (int p = 0; p < d; ++p) sum += m[p * d + i] * m[p * d + j];
          a[static_cast<size_t>(j) * d + i] = sum;
        }
      }
      std::vector<double> want(d), b(ld, 0.0);
      for (double& v : want) v = value(random);
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < d; ++j) b[i] += a[static_cast<size_t>(j) * d + i] * want[j];
      }
      std::vector<double> g(static_cast<size_t>(ld) * ld, 0.0);
      for (int j = 0; j < d; ++j) {
        for (int i = 0; i <= j; ++i) g[static_cast<size_t>(j) * ld + i] = a[j * d + i];
      }
      std::vector<double> x(ld), inverse(ld), row(ld);
      ASSERT_TRUE(kernel.solve(g.data(), ld, d, b.data(), x.data(), inverse.data(), row.data()))
          << kernel.name << " d " << d;
      for (int i = 0; i < d; ++i) {
        ASSERT_NEAR(x[i], want[i], 1e-9) << kernel.name << " d " << d << " x[" << i << "]";
      }
      // Not positive definite: a negative pivot (first or last) is refused.
      for (int bad : {0, d - 1}) {
        std::fill(g.begin(), g.end(), 0.0);
        for (int j = 0; j < d; ++j) g[static_cast<size_t>(j) * ld + j] = j == bad ? -1.0 : 1.0;
        EXPECT_FALSE(
            kernel.solve(g.data(), ld, d, b.data(), x.data(), inverse.data(), row.data()))
            << kernel.name << " d " << d << " pivot " << bad;
      }
    }
  }
}

TEST(NormalEquations, SumsAddToWhatIsAlreadyThere) {
  Case c = MakeCase(10, false, 100, 30, 5);
  RatingTerms terms{RatingTerm::kExplicit, 10, 0, 0};
  Sums once = Accumulate(AccumulateNormalEquations, c, terms, c.rows.data());
  Sums twice = once;
  AccumulateNormalEquations({c.rows.data(), c.stride, c.index.data(), c.rating.data(), 100},
                            terms, twice.g.data(), twice.b.data(), &twice.tt);
  // Each rating is added onto the running sum, so twice is 2 × once up to rounding.
  EXPECT_NEAR(twice.g[0], 2 * once.g[0], 1e-12 * std::abs(once.g[0]));
  EXPECT_NEAR(twice.b[9], 2 * once.b[9], 1e-12 * std::abs(once.b[9]));
  EXPECT_NEAR(twice.tt, 2 * once.tt, 1e-12 * once.tt);
  EXPECT_GT(once.tt, 0);
}

TEST(NormalEquations, BitsDoNotDependOnWhereRowsLive) {
  // The same rows at another address (and alignment) and in another order give the same bits.
  for (int k : {10, 24}) {
    Case c = MakeCase(k, true, 300, 40, 11);
    RatingTerms terms{RatingTerm::kBiased, k + 1, 3.5, 0};
    Sums first = Accumulate(AccumulateNormalEquations, c, terms, c.rows.data());
    const int rows = 40;
    Case moved = c;
    moved.rows.assign(c.rows.size() + 1, 0.0);
    // Reverse the rows and shift them by one double.
    for (int o = 0; o < rows; ++o) {
      std::copy_n(c.rows.data() + static_cast<size_t>(o) * c.stride, c.stride,
                  moved.rows.data() + 1 + static_cast<size_t>(rows - 1 - o) * c.stride);
    }
    for (int32_t& o : moved.index) o = rows - 1 - o;
    Sums second = Accumulate(AccumulateNormalEquations, moved, terms, moved.rows.data() + 1);
    EXPECT_EQ(first.g, second.g) << "k " << k;
    EXPECT_EQ(first.b, second.b) << "k " << k;
    EXPECT_EQ(first.tt, second.tt) << "k " << k;
  }
}

TEST(NormalEquations, AccumulateCallsTheChosenKernel) {
  Case c = MakeCase(10, false, 100, 30, 9);
  RatingTerms terms{RatingTerm::kExplicit, 10, 0, 0};
  NormalEquationsFn chosen = nullptr;
  for (const NormalEquationsKernel& kernel : NormalEquationsKernels()) {
    if (kernel.name == std::string(ChosenNormalEquationsKernel())) chosen = kernel.accumulate;
  }
  ASSERT_NE(chosen, nullptr) << ChosenNormalEquationsKernel();
  Sums direct = Accumulate(chosen, c, terms, c.rows.data());
  Sums dispatched = Accumulate(AccumulateNormalEquations, c, terms, c.rows.data());
  EXPECT_EQ(direct.g, dispatched.g);  // the same bits
  EXPECT_EQ(direct.b, dispatched.b);
  EXPECT_EQ(direct.tt, dispatched.tt);
  EXPECT_TRUE(NormalEquationsKernels().back().supported);  // portable
}

}  // namespace
}  // namespace mltrack::als
