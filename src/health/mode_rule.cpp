#include "health/mode_rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "common/edit_distance.hpp"

namespace vigil::health {

// The parsed rule as a flat tree: and/or are n-ary so that a long chain of `and` stays one node
// deep, which keeps evaluation recursion bounded by the nesting limit.
struct ModeRule::Program {
  struct Node {
    enum class Op { any_of, all_of, negate, constant, compare };
    Op op = Op::constant;
    std::vector<std::size_t> children;  // any_of, all_of, negate
    bool constant = false;
    // compare:
    std::string name;
    NodeKind kind = NodeKind::component;
    bool negated = false;  // `!=` and `not in`
    bool compares_levels = false;
    std::vector<State> states;
    std::vector<Level> levels;
    std::size_t begin = 0;  // the comparison's text, for explain()
    std::size_t end = 0;
  };
  std::string text;
  std::vector<Node> nodes;
  std::size_t root = 0;
};

namespace {

using Node = ModeRule::Program::Node;

constexpr std::array<std::string_view, 7> kStateNames{"stopped", "starting", "running", "stopping",
                                                      "backoff", "failed",   "given_up"};
constexpr std::array<std::pair<Level, std::string_view>, 4> kLevelNames{{
    {Level::ok, "ok"},
    {Level::warn, "warn"},
    {Level::error, "error"},
    {Level::stale, "stale"},
}};
constexpr std::array<std::string_view, 6> kKeywords{"and", "or", "not", "in", "true", "false"};

std::optional<Level> level_from_string(std::string_view s) {
  for (const auto& [level, name] : kLevelNames) {
    if (name == s) return level;
  }
  return std::nullopt;
}

bool is_keyword(std::string_view word) {
  return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

template <typename Range>
std::string did_you_mean(std::string_view word, const Range& choices) {
  // A case slip is the likeliest typo in a lowercase-only language: prefer it over distance.
  const std::string lower = lowercase(word);
  for (std::string_view choice : choices) {
    if (choice == lower && choice != word) return fmt::format(" (did you mean '{}'?)", choice);
  }
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (std::string_view choice : choices) {
    const std::size_t d = edit_distance(word, choice);
    if (d < best_distance) {
      best_distance = d;
      best = choice;
    }
  }
  if (best.empty()) return "";
  return fmt::format(" (did you mean '{}'?)", best);
}

std::vector<std::string_view> value_names() {
  std::vector<std::string_view> out(kStateNames.begin(), kStateNames.end());
  for (const auto& [level, name] : kLevelNames) out.push_back(name);
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

enum class Tok { word, lparen, rparen, comma, eq, ne, end, invalid };

struct Token {
  Tok kind = Tok::end;
  std::size_t offset = 0;
  std::string_view text;
  std::string problem;  // for Tok::invalid: what is wrong and what to write instead
};

// Bad characters become `invalid` tokens instead of failing here, so that errors are reported
// in text order: the parser complains about the first problem it reaches.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  auto add = [&](Tok kind, std::size_t length, std::string problem = {}) {
    tokens.push_back(Token{kind, i, text.substr(i, length), std::move(problem)});
    i += length;
  };
  while (i < text.size()) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (is_name_char(c)) {
      std::size_t n = 1;
      while (i + n < text.size() && is_name_char(text[i + n])) ++n;
      // "caméra": report the byte, not an unknown name 'cam' (the byte token comes next).
      if (i + n < text.size() && static_cast<unsigned char>(text[i + n]) >= 0x80) {
        i += n;
        continue;
      }
      add(Tok::word, n);
    } else if (c == '(') {
      add(Tok::lparen, 1);
    } else if (c == ')') {
      add(Tok::rparen, 1);
    } else if (c == ',') {
      add(Tok::comma, 1);
    } else if (c == '=' && next == '=') {
      add(Tok::eq, 2);
    } else if (c == '!' && next == '=') {
      add(Tok::ne, 2);
    } else if (c == '=') {
      add(Tok::invalid, 1, "'=' is not an operator: use '=='");
    } else if (c == '!') {
      add(Tok::invalid, 1, "'!' is not an operator: use 'not' (or '!=' to compare)");
    } else if (c == '&') {
      const std::size_t n = next == '&' ? 2 : 1;
      add(Tok::invalid, n, fmt::format("'{}' is not an operator: use 'and'", text.substr(i, n)));
    } else if (c == '|') {
      const std::size_t n = next == '|' ? 2 : 1;
      add(Tok::invalid, n, fmt::format("'{}' is not an operator: use 'or'", text.substr(i, n)));
    } else if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20 ||
               c == 0x7f) {
      add(Tok::invalid, 1,
          fmt::format("unexpected byte 0x{:02X}: a rule is ASCII text (names are letters, "
                      "digits, '_', '-' and '.')",
                      static_cast<unsigned char>(c)));
    } else {
      add(Tok::invalid, 1,
          fmt::format("unexpected character '{}': a rule uses 'and', 'or', 'not', '==', '!=', "
                      "'in', parentheses and commas",
                      c));
    }
  }
  tokens.push_back(Token{Tok::end, text.size(), {}, {}});
  return tokens;
}

// Thrown inside the parser only, caught in ModeRule::parse: the API returns RuleError.
struct ParseFailure {
  RuleError error;
};

[[noreturn]] void fail(std::size_t offset, std::string message) {
  throw ParseFailure{RuleError{offset, std::move(message)}};
}

std::string describe(const Token& t) {
  if (t.kind == Tok::end) return "end of rule";
  return fmt::format("'{}'", t.text);
}

// "got 'AND'": say why the obvious intent failed.
std::string lowercase_hint(const Token& t) {
  if (t.kind != Tok::word) return "";
  const std::string lower = lowercase(t.text);
  if (lower == t.text || !is_keyword(lower)) return "";
  return fmt::format(" (keywords are lowercase: '{}')", lower);
}

std::string_view kind_name(NodeKind kind) {
  return kind == NodeKind::component ? "component" : "group";
}

class Parser {
 public:
  Parser(std::string_view text, const KnownNodes& known)
      : text_(text), known_(known), tokens_(tokenize(text)) {}

  ModeRule::Program run() {
    if (peek().kind == Tok::end) {
      fail(0, "empty rule: write a condition such as 'NAME != ok'");
    }
    ModeRule::Program program;
    program.root = parse_or(program);
    const Token& t = peek();
    if (t.kind == Tok::rparen) fail(t.offset, "unbalanced parenthesis: ')' without '('");
    if (t.kind != Tok::end) {
      fail(t.offset, fmt::format("expected 'and' or 'or' after '{}', got {}{}", last_operand(),
                                 describe(t), lowercase_hint(t)));
    }
    program.text = std::string(text_);
    return program;
  }

 private:
  // Never returns an invalid token: reaching one is the error.
  const Token& peek() const {
    const Token& t = tokens_[pos_];
    if (t.kind == Tok::invalid) fail(t.offset, t.problem);
    return t;
  }
  const Token& take() {
    const Token& t = peek();
    if (t.kind != Tok::end) ++pos_;
    return t;
  }
  bool at_word(std::string_view word) const {
    const Token& t = peek();
    return t.kind == Tok::word && t.text == word;
  }
  std::string_view last_operand() const {
    return text_.substr(operand_begin_, operand_end_ - operand_begin_);
  }

  static std::size_t add(ModeRule::Program& p, Node node) {
    p.nodes.push_back(std::move(node));
    return p.nodes.size() - 1;
  }

  std::size_t parse_or(ModeRule::Program& p) {
    return parse_chain(p, "or", Node::Op::any_of, [this](ModeRule::Program& q) {
      return parse_chain(q, "and", Node::Op::all_of,
                         [this](ModeRule::Program& r) { return parse_not(r); });
    });
  }

  template <typename ParseOperand>
  std::size_t parse_chain(ModeRule::Program& p, std::string_view op_word, Node::Op op,
                          ParseOperand parse_operand) {
    std::vector<std::size_t> operands{parse_operand(p)};
    while (at_word(op_word)) {
      take();
      after_ = op_word;
      operands.push_back(parse_operand(p));
    }
    if (operands.size() == 1) return operands.front();
    Node node;
    node.op = op;
    node.children = std::move(operands);
    return add(p, std::move(node));
  }

  std::size_t parse_not(ModeRule::Program& p) {
    if (at_word("not")) {
      const Token& t = take();
      enter(t);
      after_ = "not";
      const std::size_t operand = parse_not(p);
      --depth_;
      operand_begin_ = t.offset;
      Node node;
      node.op = Node::Op::negate;
      node.children = {operand};
      return add(p, std::move(node));
    }
    return parse_primary(p);
  }

  void enter(const Token& t) {
    if (++depth_ > ModeRule::kMaxDepth) {
      fail(t.offset,
           fmt::format("the rule nests more than {} levels of '(' and 'not'", ModeRule::kMaxDepth));
    }
  }

  std::string expected_operand(const Token& got) const {
    const std::string where = after_.empty() ? std::string("at the start of the rule")
                                             : fmt::format("after '{}'", after_);
    return fmt::format("expected a comparison, 'not', '(', 'true' or 'false' {}, got {}", where,
                       describe(got));
  }

  std::size_t parse_primary(ModeRule::Program& p) {
    const Token& t = peek();
    if (t.kind == Tok::lparen) {
      take();
      enter(t);
      after_ = "(";
      const std::size_t inner = parse_or(p);
      --depth_;
      const Token& close = peek();
      if (close.kind == Tok::end) fail(t.offset, "unbalanced parenthesis: '(' without ')'");
      if (close.kind != Tok::rparen) {
        fail(close.offset, fmt::format("expected 'and', 'or' or ')' after '{}', got {}{}",
                                       last_operand(), describe(close), lowercase_hint(close)));
      }
      take();
      operand_begin_ = t.offset;
      operand_end_ = close.offset + 1;
      return inner;
    }
    if (t.kind == Tok::word && (t.text == "true" || t.text == "false")) {
      take();
      operand_begin_ = t.offset;
      operand_end_ = t.offset + t.text.size();
      Node node;
      node.op = Node::Op::constant;
      node.constant = t.text == "true";
      return add(p, std::move(node));
    }
    if (t.kind != Tok::word || is_keyword(t.text)) fail(t.offset, expected_operand(t));
    return parse_comparison(p);
  }

  std::size_t parse_comparison(ModeRule::Program& p) {
    const Token& name = take();
    Node node;
    node.op = Node::Op::compare;
    node.name = std::string(name.text);
    node.begin = name.offset;
    const auto found = known_.find(name.text);
    if (found == known_.end()) reject_name(name);
    node.kind = found->second;

    const Token& op = take();
    if (op.kind == Tok::eq || op.kind == Tok::ne) {
      node.negated = op.kind == Tok::ne;
      add_value(node, parse_value(name.text, op.text));
    } else if (op.kind == Tok::word && (op.text == "in" || op.text == "not")) {
      if (op.text == "not") {
        node.negated = true;
        const Token& in = peek();
        if (!(in.kind == Tok::word && in.text == "in")) {
          fail(in.offset,
               fmt::format("expected 'in' after '{} not', got {} (to negate a comparison, write "
                           "'not {} == VALUE')",
                           name.text, describe(in), name.text));
        }
        take();
      }
      parse_list(node, name.text);
    } else {
      fail(op.offset, fmt::format("expected '==', '!=', 'in' or 'not in' after '{}', got {}",
                                  name.text, describe(op)));
    }
    node.end = tokens_[pos_ - 1].offset + tokens_[pos_ - 1].text.size();
    operand_begin_ = node.begin;
    operand_end_ = node.end;
    return add(p, std::move(node));
  }

  [[noreturn]] void reject_name(const Token& name) const {
    if (state_from_string(name.text) || level_from_string(name.text)) {
      fail(name.offset,
           fmt::format("'{}' is a {}, not a component or group: a comparison reads "
                       "'NAME == {}'",
                       name.text, state_from_string(name.text) ? "state" : "level", name.text));
    }
    const std::string lower = lowercase(name.text);
    if (is_keyword(lower)) {
      fail(name.offset,
           fmt::format("'{}' is not a keyword: keywords are lowercase ('{}')", name.text, lower));
    }
    std::vector<std::string_view> names;
    names.reserve(known_.size());
    for (const auto& [known_name, kind] : known_) names.push_back(known_name);
    fail(name.offset, fmt::format("unknown component or group '{}'{}", name.text,
                                  did_you_mean(name.text, names)));
  }

  struct Value {
    std::size_t offset;
    std::string_view text;
    std::optional<State> state;
    std::optional<Level> level;
  };

  Value parse_value(std::string_view name, std::string_view after) {
    const Token& t = take();
    if (t.kind != Tok::word || is_keyword(t.text)) {
      fail(t.offset,
           fmt::format("expected a state or level after '{}', got {}", after, describe(t)));
    }
    Value v{t.offset, t.text, state_from_string(t.text), level_from_string(t.text)};
    if (v.state || v.level) return v;
    if (const auto other = known_.find(t.text); other != known_.end()) {
      fail(t.offset, fmt::format("'{}' is compared with '{}', which is a {}, not a state or "
                                 "level: compare each with a value, as in '{} == ok and {} == ok'",
                                 name, t.text, kind_name(other->second), name, t.text));
    }
    fail(t.offset,
         fmt::format("'{}' is compared with '{}', which is neither a state (stopped, starting, "
                     "running, stopping, backoff, failed, given_up) nor a level (ok, warn, "
                     "error, stale){}",
                     name, t.text, did_you_mean(t.text, value_names())));
  }

  static void add_value(Node& node, const Value& v) {
    if (v.state) {
      node.states.push_back(*v.state);
    } else {
      node.levels.push_back(*v.level);
    }
    node.compares_levels = !node.levels.empty();
  }

  void parse_list(Node& node, std::string_view name) {
    const Token& open = take();
    if (open.kind != Tok::lparen) {
      fail(open.offset, fmt::format("expected '(' after 'in', as in '{} in (failed, given_up)', "
                                    "got {}",
                                    name, describe(open)));
    }
    std::string_view after = "(";
    std::optional<Value> first;
    while (true) {
      const Value v = parse_value(name, after);
      if (!first) {
        first = v;
      } else if (v.state.has_value() != first->state.has_value()) {
        fail(v.offset,
             fmt::format("the list mixes states and levels ('{}' is a {}, '{}' is a {}): use one "
                         "kind per list and join comparisons with 'or'",
                         first->text, first->state ? "state" : "level", v.text,
                         v.state ? "state" : "level"));
      }
      add_value(node, v);
      const Token& t = peek();
      if (t.kind == Tok::rparen) {
        take();
        return;
      }
      if (t.kind == Tok::end) fail(open.offset, "unbalanced parenthesis: '(' without ')'");
      if (t.kind != Tok::comma) {
        fail(t.offset, fmt::format("expected ',' or ')' after '{}', got {}", v.text, describe(t)));
      }
      take();
      after = ",";
    }
  }

  std::string_view text_;
  const KnownNodes& known_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::string_view after_;         // the token before the operand being parsed; empty at the start
  std::size_t operand_begin_ = 0;  // the last complete operand, for "after 'lidar == ok'"
  std::size_t operand_end_ = 0;
};

std::string describe_health(const Node& node, const std::vector<ComponentHealth>& components) {
  auto one = [](const ComponentHealth& c) {
    return fmt::format("{}: {}/{}", c.name, to_string(c.state), to_string(c.level));
  };
  if (node.kind == NodeKind::component && components.size() == 1) return one(components.front());
  if (components.empty()) return fmt::format("{}: STALE (no components)", node.name);
  Level worst = Level::ok;
  std::string members;
  for (const auto& c : components) {
    worst = std::max(worst, c.level);
    if (!members.empty()) members += ", ";
    members += one(c);
  }
  return fmt::format("{}: {} ({})", node.name, to_string(worst), members);
}

bool compare(const Node& node, const std::vector<ComponentHealth>& components) {
  bool match = false;
  if (node.compares_levels) {
    Level worst = components.empty() ? Level::stale : Level::ok;
    for (const auto& c : components) worst = std::max(worst, c.level);
    match = std::find(node.levels.begin(), node.levels.end(), worst) != node.levels.end();
  } else {
    match =
        !components.empty() &&
        std::all_of(components.begin(), components.end(), [&](const ComponentHealth& c) {
          return std::find(node.states.begin(), node.states.end(), c.state) != node.states.end();
        });
  }
  return match != node.negated;
}

// With `explanation`, every comparison is evaluated (no short circuit) and recorded in order.
bool evaluate(const ModeRule::Program& p, std::size_t index, const HealthLookup& lookup,
              nlohmann::json* explanation) {
  const Node& node = p.nodes[index];
  switch (node.op) {
    case Node::Op::constant:
      return node.constant;
    case Node::Op::negate:
      return !evaluate(p, node.children.front(), lookup, explanation);
    case Node::Op::any_of:
    case Node::Op::all_of: {
      const bool any = node.op == Node::Op::any_of;
      bool result = !any;
      for (std::size_t child : node.children) {
        const bool value = evaluate(p, child, lookup, explanation);
        if (value == any) {
          result = any;
          if (explanation == nullptr) break;
        }
      }
      return result;
    }
    case Node::Op::compare: {
      const std::vector<ComponentHealth> components = lookup(node.name);
      const bool value = compare(node, components);
      if (explanation != nullptr) {
        explanation->push_back({{"atom", p.text.substr(node.begin, node.end - node.begin)},
                                {"value", value},
                                {"health", describe_health(node, components)}});
      }
      return value;
    }
  }
  return false;
}

}  // namespace

ModeRule::ModeRule(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

std::variant<ModeRule, RuleError> ModeRule::parse(std::string_view text, const KnownNodes& known) {
  if (text.size() > kMaxLength) {
    return RuleError{kMaxLength, fmt::format("the rule is {} characters long; at most {} are "
                                             "allowed",
                                             text.size(), kMaxLength)};
  }
  try {
    Parser parser(text, known);
    return ModeRule(std::make_shared<const Program>(parser.run()));
  } catch (const ParseFailure& failure) {
    return failure.error;
  }
}

bool ModeRule::holds(const HealthLookup& lookup) const {
  return evaluate(*program_, program_->root, lookup, nullptr);
}

nlohmann::json ModeRule::explain(const HealthLookup& lookup) const {
  nlohmann::json atoms = nlohmann::json::array();
  evaluate(*program_, program_->root, lookup, &atoms);
  return atoms;
}

std::vector<std::string> ModeRule::names() const {
  std::vector<std::string> out;
  for (const auto& node : program_->nodes) {
    if (node.op != Node::Op::compare) continue;
    if (std::find(out.begin(), out.end(), node.name) == out.end()) out.push_back(node.name);
  }
  return out;
}

const std::string& ModeRule::text() const {
  return program_->text;
}

}  // namespace vigil::health
