#include "tracking/search_ast.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::tracking::search {
namespace {

// ASCII classes: the grammar's words are ASCII; anything else must be quoted.
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsOpChar(char c) { return c == '=' || c == '!' || c == '<' || c == '>'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsStringQuote(char c) { return c == '\'' || c == '"'; }
bool IsQuote(char c) { return IsStringQuote(c) || c == '`'; }

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

constexpr std::string_view kNumericComparators =
    "['=', '!=', '<', '<=', '>', '>=', 'IS NULL', 'IS NOT NULL']";
constexpr std::string_view kStringComparators =
    "['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL']";
constexpr std::string_view kAnyComparator =
    "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL)";

bool IsNumericKey(const Key& key) {
  return key.kind == KeyKind::kMetric || (key.attribute != nullptr && key.attribute->numeric);
}

bool ComparatorAllowed(const Key& key, Comparator op) {
  switch (op) {
    case Comparator::kEq:
    case Comparator::kNe:
    case Comparator::kIsNull:
    case Comparator::kIsNotNull:
      return true;
    case Comparator::kLt:
    case Comparator::kLe:
    case Comparator::kGt:
    case Comparator::kGe:
      return IsNumericKey(key);
    case Comparator::kLike:
    case Comparator::kILike:
    case Comparator::kIn:
    case Comparator::kNotIn:
      return !IsNumericKey(key);
  }
  return false;
}

// A found token as a message shows it: a string literal as `string 'as written'`, a back-ticked
// name as written, anything else in single quotes.
std::string Show(std::string_view raw) {
  if (!raw.empty() && IsStringQuote(raw.front())) return fmt::format("string {}", raw);
  if (!raw.empty() && raw.front() == '`') return std::string(raw);
  return fmt::format("'{}'", raw);
}

class Parser {
 public:
  Parser(std::string_view text, std::string subject, const EntitySpec& entity, bool order)
      : text_(text), subject_(std::move(subject)), entity_(entity), order_(order) {}

  Expr Filter() {
    SkipSpace();
    if (AtEnd()) return Expr{Expr::Kind::kAnd, {}, {}};
    Expr expr = Or();
    SkipSpace();
    if (!AtEnd()) {
      if (Peek() == ')') Fail(pos_, "unmatched ')'");
      Expected("AND, OR or end of input");
    }
    return expr;
  }

  OrderClause Order() {
    OrderClause clause;
    clause.key = ParseKey("a key");
    SkipSpace();
    if (AtEnd()) return clause;
    if (TakeKeyword("DESC")) {
      clause.ascending = false;
    } else if (!TakeKeyword("ASC")) {
      Expected("ASC, DESC or end of clause");
    }
    SkipSpace();
    if (!AtEnd()) Expected("end of clause");
    return clause;
  }

 private:
  // --- errors ---------------------------------------------------------------------------------

  // 1-based position in code points: UTF-8 continuation bytes do not count.
  size_t Position(size_t offset) const {
    size_t position = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++position;
    }
    return position + (offset > text_.size() ? offset - text_.size() : 0);
  }

  [[noreturn]] void Fail(size_t offset, std::string_view problem,
                         std::string_view hint = {}) const {
    std::string message =
        fmt::format("{}: {} at position {}", subject_, problem, Position(offset));
    if (!hint.empty()) message += fmt::format(". {}", hint);
    throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
  }

  // The raw text of the token that starts at `offset`, as far as a message needs it.
  std::string_view TokenAt(size_t offset) const {
    size_t n = text_.size();
    char c = text_[offset];
    size_t end = offset + 1;
    if (IsQuote(c)) {
      while (end < n && !(text_[end] == c && (end + 1 >= n || text_[end + 1] != c))) {
        end += text_[end] == c ? 2 : 1;
      }
      end = std::min(end + 1, n);
    } else if (IsWordChar(c) || c == '.' || c == '-' || c == '+') {
      while (end < n && (IsWordChar(text_[end]) || text_[end] == '.')) ++end;
    } else if (IsOpChar(c)) {
      while (end < n && IsOpChar(text_[end])) ++end;
    } else {
      while (end < n && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    }
    return text_.substr(offset, end - offset);
  }

  // Fails at the current position: "expected <what> after '<last>', found <token>".
  [[noreturn]] void Expected(std::string_view what) const {
    std::string found = AtEnd()                ? std::string("end of input")
                        : IsSpace(text_[pos_]) ? std::string("whitespace")
                                               : Show(TokenAt(pos_));
    if (last_.empty()) Fail(pos_, fmt::format("expected {}, found {}", what, found));
    std::string after = IsQuote(last_.front()) ? std::string(last_) : fmt::format("'{}'", last_);
    Fail(pos_, fmt::format("expected {} after {}, found {}", what, after, found));
  }

  // --- scanning -------------------------------------------------------------------------------

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  char PeekAt(size_t offset) const { return offset < text_.size() ? text_[offset] : '\0'; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }
  void Took(size_t begin) { last_ = text_.substr(begin, pos_ - begin); }
  void TakeChar() {
    ++pos_;
    Took(pos_ - 1);
  }

  // Consumes `keyword` (upper case) when the next word is it, in any letter case.
  bool TakeKeyword(std::string_view keyword) {
    if (text_.size() - pos_ < keyword.size()) return false;
    for (size_t i = 0; i < keyword.size(); ++i) {
      if (Upper(text_[pos_ + i]) != keyword[i]) return false;
    }
    if (IsWordChar(PeekAt(pos_ + keyword.size()))) return false;
    pos_ += keyword.size();
    Took(pos_ - keyword.size());
    return true;
  }

  // At a quote character: the quoted text, in which a doubled quote stands for one.
  std::string Quoted() {
    size_t begin = pos_;
    char quote = text_[pos_++];
    std::string value;
    for (;;) {
      if (AtEnd()) Fail(begin, "unterminated quoted string");
      char c = text_[pos_++];
      if (c == quote) {
        if (Peek() != quote) break;
        ++pos_;
      }
      value += c;
    }
    Took(begin);
    return value;
  }

  // --- grammar --------------------------------------------------------------------------------

  Expr Or() {
    std::vector<Expr> operands;
    operands.push_back(And());
    while ((SkipSpace(), TakeKeyword("OR"))) operands.push_back(And());
    if (operands.size() == 1) return std::move(operands.front());
    return Expr{Expr::Kind::kOr, {}, std::move(operands)};
  }

  Expr And() {
    std::vector<Expr> operands;
    operands.push_back(Primary());
    while ((SkipSpace(), TakeKeyword("AND"))) operands.push_back(Primary());
    if (operands.size() == 1) return std::move(operands.front());
    return Expr{Expr::Kind::kAnd, {}, std::move(operands)};
  }

  Expr Primary() {
    SkipSpace();
    if (Peek() != '(') return Expr{Expr::Kind::kComparison, ParseComparison(), {}};
    size_t open = pos_;
    TakeChar();
    Expr inner = Or();
    SkipSpace();
    if (Peek() == ')') {
      TakeChar();
      return inner;
    }
    if (AtEnd()) Fail(open, "unclosed '('");
    Expected("AND, OR or ')'");
  }

  Comparison ParseComparison() {
    Comparison comparison;
    comparison.key = ParseKey("a key or '('");
    const Key& key = comparison.key;
    SkipSpace();
    size_t op_at = pos_;
    comparison.op = ParseComparator();
    if (!ComparatorAllowed(key, comparison.op)) {
      Fail(op_at,
           fmt::format("comparator '{}' is not valid for {} '{}'", ComparatorText(comparison.op),
                       KeyKindName(key.kind), key.name),
           fmt::format("Valid comparators are {}",
                       IsNumericKey(key) ? kNumericComparators : kStringComparators));
    }
    switch (comparison.op) {
      case Comparator::kIsNull:
      case Comparator::kIsNotNull:
        break;
      case Comparator::kIn:
      case Comparator::kNotIn:
        SkipSpace();
        if (Peek() != '(') Expected("'('");
        TakeChar();
        SkipSpace();
        if (Peek() == ')') Expected("at least one value");
        for (;;) {
          comparison.values.push_back(Value(key));
          SkipSpace();
          if (Peek() == ')') break;
          if (Peek() != ',') Expected("',' or ')'");
          TakeChar();
        }
        TakeChar();
        break;
      default:
        comparison.values.push_back(Value(key));
    }
    return comparison;
  }

  Comparator ParseComparator() {
    size_t begin = pos_;
    if (IsOpChar(Peek())) {
      size_t end = pos_;
      while (IsOpChar(PeekAt(end))) ++end;
      std::string_view op = text_.substr(pos_, end - pos_);
      static constexpr std::pair<std::string_view, Comparator> kOps[] = {
          {"=", Comparator::kEq}, {"!=", Comparator::kNe}, {"<", Comparator::kLt},
          {"<=", Comparator::kLe}, {">", Comparator::kGt}, {">=", Comparator::kGe}};
      for (const auto& [text, comparator] : kOps) {
        if (op == text) {
          pos_ = end;
          Took(begin);
          return comparator;
        }
      }
      Expected(kAnyComparator);
    }
    if (TakeKeyword("LIKE")) return Comparator::kLike;
    if (TakeKeyword("ILIKE")) return Comparator::kILike;
    if (TakeKeyword("IN")) return Comparator::kIn;
    if (TakeKeyword("NOT")) {
      SkipSpace();
      if (!TakeKeyword("IN")) Expected("IN");
      Took(begin);
      return Comparator::kNotIn;
    }
    if (TakeKeyword("IS")) {
      SkipSpace();
      Comparator op = Comparator::kIsNull;
      if (TakeKeyword("NOT")) {
        op = Comparator::kIsNotNull;
        SkipSpace();
        if (!TakeKeyword("NULL")) Expected("NULL");
      } else if (!TakeKeyword("NULL")) {
        Expected("NULL or NOT NULL");
      }
      Took(begin);
      return op;
    }
    Expected(kAnyComparator);
  }

  // One part of a key: a word, or quoted text. After a prefix the word may start with a digit
  // and single quotes are accepted too (MLflow strips either quote from a key).
  std::optional<std::string> KeyPart(bool after_prefix) {
    char c = Peek();
    if (c == '"' || c == '`' || (after_prefix && c == '\'')) return Quoted();
    if (!(IsWordStart(c) || (after_prefix && IsDigit(c)))) return std::nullopt;
    size_t begin = pos_;
    while (IsWordChar(Peek())) ++pos_;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  // key := [prefix "."] name, where name is one or more parts joined by dots.
  Key ParseKey(std::string_view expected) {
    SkipSpace();
    size_t begin = pos_;
    std::optional<std::string> first = KeyPart(false);
    if (!first) Expected(expected);
    Key key;
    key.position = Position(begin);
    if (Peek() != '.') {
      key.name = std::move(*first);
    } else {
      auto prefix = std::find_if(entity_.prefixes.begin(), entity_.prefixes.end(),
                                 [&](const auto& p) { return p.first == *first; });
      if (prefix == entity_.prefixes.end()) {
        Fail(begin, fmt::format("unknown entity type '{}'", *first),
             fmt::format("Valid values are {}", entity_.valid_prefixes));
      }
      key.kind = prefix->second;
      for (;;) {
        TakeChar();  // the '.'
        Took(begin);
        std::optional<std::string> part = KeyPart(true);
        if (!part) Expected(fmt::format("a {} name", KeyKindName(key.kind)));
        key.name += *part;
        if (Peek() != '.') break;
        key.name += '.';
      }
    }
    Took(begin);
    if (key.kind == KeyKind::kAttribute) key.attribute = Attribute(key.name, begin);
    return key;
  }

  const AttributeSpec* Attribute(const std::string& name, size_t at) const {
    std::vector<std::string_view> valid;
    for (const AttributeSpec& attribute : entity_.attributes) {
      if (!order_ && !attribute.filterable) continue;
      if (attribute.name == name) return &attribute;
      valid.push_back(attribute.name);
    }
    std::sort(valid.begin(), valid.end());
    std::string list;
    for (std::string_view v : valid) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", v);
    Fail(at, fmt::format("unknown attribute key '{}'", name),
         fmt::format("Valid keys are [{}]", list));
  }

  // A literal of the type `key` compares with.
  sqlite::SqlValue Value(const Key& key) {
    SkipSpace();
    std::string what = fmt::format("{} for {} '{}'",
                                   IsNumericKey(key) ? "a number" : "a quoted string",
                                   KeyKindName(key.kind), key.name);
    if (!IsNumericKey(key)) {
      if (!IsStringQuote(Peek())) Expected(what);
      return Quoted();
    }
    std::optional<sqlite::SqlValue> number = Number(key.kind == KeyKind::kMetric);
    if (!number) Expected(what);
    return *std::move(number);
  }

  // [+-] (digits [. digits] | . digits) [(e|E) [+-] digits], not followed by a word character.
  std::optional<sqlite::SqlValue> Number(bool as_double) {
    size_t i = pos_;
    if (PeekAt(i) == '+' || PeekAt(i) == '-') ++i;
    size_t digits = 0;
    while (IsDigit(PeekAt(i))) ++i, ++digits;
    bool integral = true;
    if (PeekAt(i) == '.') {
      integral = false;
      ++i;
      while (IsDigit(PeekAt(i))) ++i, ++digits;
    }
    if (digits == 0) return std::nullopt;
    if (PeekAt(i) == 'e' || PeekAt(i) == 'E') {
      integral = false;
      ++i;
      if (PeekAt(i) == '+' || PeekAt(i) == '-') ++i;
      if (!IsDigit(PeekAt(i))) return std::nullopt;
      while (IsDigit(PeekAt(i))) ++i;
    }
    if (IsWordChar(PeekAt(i)) || PeekAt(i) == '.') return std::nullopt;
    std::string_view text = text_.substr(pos_, i - pos_);
    std::string_view digits_text = text.front() == '+' ? text.substr(1) : text;
    const char* first = digits_text.data();
    const char* last = first + digits_text.size();
    sqlite::SqlValue value;
    int64_t integer = 0;
    if (integral && std::from_chars(first, last, integer).ec == std::errc()) {
      value = as_double ? sqlite::SqlValue(static_cast<double>(integer))
                        : sqlite::SqlValue(integer);
    } else {
      double real = 0;
      if (std::from_chars(first, last, real).ec == std::errc::result_out_of_range) {
        // Beyond a double (integers too, then): what MLflow's float() gives, +-inf or +-0.
        size_t e = text.find_first_of("eE");
        bool tiny = e != std::string_view::npos && text[e + 1] == '-';
        real = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        if (text.front() == '-') real = -real;
      }
      value = real;
    }
    size_t begin = pos_;
    pos_ = i;
    Took(begin);
    return value;
  }

  std::string_view text_;
  std::string subject_;
  const EntitySpec& entity_;
  bool order_;
  size_t pos_ = 0;
  std::string_view last_;  // the token consumed last, for "expected ... after '<last>'"
};

}  // namespace

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kMetric: return "metric";
    case KeyKind::kParam: return "parameter";
    case KeyKind::kTag: return "tag";
    case KeyKind::kAttribute: return "attribute";
  }
  return "?";
}

std::string_view ComparatorText(Comparator op) {
  switch (op) {
    case Comparator::kEq: return "=";
    case Comparator::kNe: return "!=";
    case Comparator::kLt: return "<";
    case Comparator::kLe: return "<=";
    case Comparator::kGt: return ">";
    case Comparator::kGe: return ">=";
    case Comparator::kLike: return "LIKE";
    case Comparator::kILike: return "ILIKE";
    case Comparator::kIn: return "IN";
    case Comparator::kNotIn: return "NOT IN";
    case Comparator::kIsNull: return "IS NULL";
    case Comparator::kIsNotNull: return "IS NOT NULL";
  }
  return "?";
}

Expr ParseFilter(std::string_view filter, const EntitySpec& entity) {
  return Parser(filter, fmt::format("Invalid filter '{}'", filter), entity, false).Filter();
}

OrderClause ParseOrderClause(std::string_view clause, const EntitySpec& entity) {
  return Parser(clause, fmt::format("Invalid order_by clause '{}'", clause), entity, true).Order();
}

}  // namespace mltrack::tracking::search
