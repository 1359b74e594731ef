#include "health/mode_rule.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace vigil::health {
namespace {

// lidar, camera, controller, planner, imu.left-2 are components; sensors = {lidar, camera},
// robot = {sensors, controller, planner} (nested), spare = {} (empty).
const KnownNodes& known() {
  static const KnownNodes nodes{
      {"lidar", NodeKind::component},      {"camera", NodeKind::component},
      {"controller", NodeKind::component}, {"planner", NodeKind::component},
      {"imu.left-2", NodeKind::component}, {"sensors", NodeKind::group},
      {"robot", NodeKind::group},          {"spare", NodeKind::group},
  };
  return nodes;
}

const std::vector<std::string> kComponents{"lidar", "camera", "controller", "planner",
                                           "imu.left-2"};
const std::map<std::string, std::vector<std::string>> kGroups{
    {"sensors", {"lidar", "camera"}},
    {"robot", {"lidar", "camera", "controller", "planner"}},
    {"spare", {}},
};

// The health of every component; the lookup expands groups into their members.
struct World {
  std::map<std::string, std::pair<State, Level>> health;

  World() {
    for (const auto& c : kComponents) health[c] = {State::running, Level::ok};
  }
  World& set(const std::string& name, State s, Level l) {
    health[name] = {s, l};
    return *this;
  }
  std::vector<ComponentHealth> members(std::string_view name) const {
    std::vector<ComponentHealth> out;
    auto one = [&](const std::string& c) {
      const auto& [s, l] = health.at(c);
      out.push_back(ComponentHealth{c, s, l});
    };
    if (const auto g = kGroups.find(std::string(name)); g != kGroups.end()) {
      for (const auto& c : g->second) one(c);
    } else if (health.count(std::string(name)) != 0) {
      one(std::string(name));
    }
    return out;
  }
  HealthLookup lookup() const {
    return [this](std::string_view name) { return members(name); };
  }
};

ModeRule parse_ok(std::string_view text) {
  auto parsed = ModeRule::parse(text, known());
  if (const auto* error = std::get_if<RuleError>(&parsed)) {
    ADD_FAILURE() << "'" << text << "': at " << error->offset << ": " << error->message;
    return std::get<ModeRule>(ModeRule::parse("false", known()));
  }
  return std::get<ModeRule>(parsed);
}

bool holds(std::string_view text, const World& world = World()) {
  return parse_ok(text).holds(world.lookup());
}

// ---- meaning ---------------------------------------------------------------------------

TEST(ModeRule, ConstantsAndPrecedence) {
  EXPECT_TRUE(holds("true"));
  EXPECT_FALSE(holds("false"));
  // and binds tighter than or: true or (false and false)
  EXPECT_TRUE(holds("true or false and false"));
  EXPECT_TRUE(holds("false and false or true"));
  // not binds tighter than and: (not false) and false
  EXPECT_FALSE(holds("not false and false"));
  EXPECT_TRUE(holds("not (false and false)"));
  EXPECT_FALSE(holds("(true or false) and false"));
  EXPECT_TRUE(holds("not not true"));
  EXPECT_TRUE(holds("((((true))))"));
  EXPECT_TRUE(holds("false or false or false or true"));
  EXPECT_FALSE(holds("true and true and false and true"));
}

TEST(ModeRule, ComparesLevelsAndStatesOfComponents) {
  World w;
  w.set("lidar", State::running, Level::warn);
  EXPECT_TRUE(holds("lidar == warn", w));
  EXPECT_FALSE(holds("lidar == ok", w));
  EXPECT_TRUE(holds("lidar != ok", w));
  EXPECT_TRUE(holds("lidar == running", w));
  EXPECT_FALSE(holds("lidar != running", w));
  EXPECT_TRUE(holds("lidar in (warn, error)", w));
  EXPECT_FALSE(holds("lidar not in (warn, error)", w));
  EXPECT_TRUE(holds("lidar in (starting, running)", w));
  EXPECT_TRUE(holds("lidar not in (failed, given_up)", w));
  EXPECT_TRUE(holds("lidar != ok and camera == ok", w));
  EXPECT_FALSE(holds("controller == failed or (lidar != ok and camera != ok)", w));
  w.set("camera", State::backoff, Level::error);
  EXPECT_TRUE(holds("controller == failed or (lidar != ok and camera != ok)", w));
  w.set("imu.left-2", State::running, Level::stale);
  EXPECT_TRUE(holds("imu.left-2 == stale and imu.left-2 == running", w));
}

TEST(ModeRule, GroupLevelIsTheWorstOfItsMembers) {
  World w;
  EXPECT_TRUE(holds("sensors == ok", w));
  w.set("camera", State::starting, Level::warn);
  EXPECT_TRUE(holds("sensors == warn", w));
  EXPECT_TRUE(holds("sensors != ok", w));
  w.set("lidar", State::running, Level::stale);
  EXPECT_TRUE(holds("sensors == stale", w));
  EXPECT_TRUE(holds("robot in (error, stale)", w));  // nested: robot holds sensors' members
  EXPECT_FALSE(holds("robot not in (error, stale)", w));
}

TEST(ModeRule, GroupStateMeansEveryMember) {
  World w;
  EXPECT_TRUE(holds("sensors == running", w));
  EXPECT_FALSE(holds("sensors != running", w));
  w.set("camera", State::starting, Level::warn);
  EXPECT_FALSE(holds("sensors == running", w));  // not every member
  EXPECT_TRUE(holds("sensors != running", w));   // some member is not
  EXPECT_FALSE(holds("sensors == starting", w));
  // `in`: every member in one of the listed states, not necessarily the same one.
  EXPECT_TRUE(holds("sensors in (starting, running)", w));
  EXPECT_FALSE(holds("sensors not in (starting, running)", w));
  EXPECT_FALSE(holds("sensors in (running, failed)", w));
  EXPECT_TRUE(holds("sensors not in (running, failed)", w));
}

TEST(ModeRule, EmptyGroupIsStaleAndInNoState) {
  EXPECT_TRUE(holds("spare == stale"));
  EXPECT_FALSE(holds("spare == ok"));
  EXPECT_FALSE(holds("spare == running"));
  EXPECT_TRUE(holds("spare != running"));
  EXPECT_FALSE(holds("spare in (stopped, running, failed)"));
}

TEST(ModeRule, VanishedComponentIsStaleAndInNoState) {
  const ModeRule rule = parse_ok("lidar == ok or lidar == failed");
  const HealthLookup nothing = [](std::string_view) { return std::vector<ComponentHealth>{}; };
  EXPECT_FALSE(rule.holds(nothing));
  EXPECT_TRUE(parse_ok("lidar == stale").holds(nothing));
}

TEST(ModeRule, AcceptsAnySpacingAndNameCharacters) {
  World w;
  w.set("imu.left-2", State::failed, Level::error);
  EXPECT_TRUE(holds("imu.left-2==failed", w));
  EXPECT_TRUE(holds("(imu.left-2!=ok)and(lidar in(running))", w));
  EXPECT_TRUE(holds("\n  lidar == ok\n\tand\r\n  imu.left-2   in   ( failed ,given_up )  ", w));
}

TEST(ModeRule, NamesTextAndCopies) {
  const ModeRule rule =
      parse_ok("controller == failed or (lidar != ok and not camera == ok) or lidar == stale");
  EXPECT_EQ(rule.names(), (std::vector<std::string>{"controller", "lidar", "camera"}));
  EXPECT_EQ(rule.text(),
            "controller == failed or (lidar != ok and not camera == ok) or lidar == stale");
  const ModeRule copy = rule;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.text(), rule.text());
  EXPECT_TRUE(parse_ok("true").names().empty());
}

TEST(ModeRule, ExplainListsEveryComparisonWithItsValueAndHealth) {
  World w;
  w.set("lidar", State::running, Level::warn);
  w.set("camera", State::starting, Level::warn);
  const ModeRule rule =
      parse_ok("controller == failed or (lidar != ok and sensors  in (ok)) or true");
  const nlohmann::json expected = nlohmann::json::parse(R"json([
    {"atom": "controller == failed", "value": false, "health": "controller: running/OK"},
    {"atom": "lidar != ok", "value": true, "health": "lidar: running/WARN"},
    {"atom": "sensors  in (ok)", "value": false,
     "health": "sensors: WARN (lidar: running/WARN, camera: starting/WARN)"}
  ])json");
  EXPECT_EQ(rule.explain(w.lookup()), expected);
  EXPECT_TRUE(rule.holds(w.lookup()));
  EXPECT_EQ(parse_ok("spare == ok").explain(w.lookup())[0]["health"],
            "spare: STALE (no components)");
}

TEST(ModeRule, HoldsShortCircuitsButExplainReadsEverything) {
  World w;
  int calls = 0;
  const HealthLookup counting = [&](std::string_view name) {
    ++calls;
    return w.members(name);
  };
  const ModeRule rule = parse_ok("lidar == ok or camera == ok or planner == ok");
  EXPECT_TRUE(rule.holds(counting));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_EQ(rule.explain(counting).size(), 3U);
  EXPECT_EQ(calls, 3);
}

TEST(ModeRule, DeepButAllowedNestingAndLongChainsParse) {
  const std::string nested = std::string(64, '(') + "lidar == ok" + std::string(64, ')');
  EXPECT_TRUE(holds(nested));
  std::string nots;
  for (int i = 0; i < 64; ++i) nots += "not ";
  EXPECT_TRUE(holds(nots + "lidar == ok"));  // 64 negations
  // A chain of `and` is one level deep, whatever its length.
  std::string chain = "lidar == ok";
  while (chain.size() + 16 < ModeRule::kMaxLength) chain += " and lidar == ok";
  EXPECT_TRUE(holds(chain));
}

// ---- errors ----------------------------------------------------------------------------

struct BadRule {
  std::string text;
  std::size_t offset;
  std::string message;
};

const std::string kNeither =
    "which is neither a state (stopped, starting, running, stopping, backoff, failed, given_up) "
    "nor a level (ok, warn, error, stale)";
const std::string kOperand = "expected a comparison, 'not', '(', 'true' or 'false' ";

std::vector<BadRule> bad_rules() {
  std::string deep = std::string(65, '(') + "lidar == ok" + std::string(65, ')');
  std::string nots;
  for (int i = 0; i < 65; ++i) nots += "not ";
  return {
      {"", 0, "empty rule: write a condition such as 'NAME != ok'"},
      {" \n\t ", 0, "empty rule: write a condition such as 'NAME != ok'"},
      {"lidar == ok and", 15, kOperand + "after 'and', got end of rule"},
      {"lidar == ok or ", 15, kOperand + "after 'or', got end of rule"},
      {"lidar == ok and and camera == ok", 16, kOperand + "after 'and', got 'and'"},
      {"or lidar == ok", 0, kOperand + "at the start of the rule, got 'or'"},
      {"lidr == ok", 0, "unknown component or group 'lidr' (did you mean 'lidar'?)"},
      {"lidar == ok or sensor != ok", 15,
       "unknown component or group 'sensor' (did you mean 'sensors'?)"},
      {"gps == ok", 0, "unknown component or group 'gps'"},
      {"camera == fine", 10, "'camera' is compared with 'fine', " + kNeither},
      {"lidar == runing", 9,
       "'lidar' is compared with 'runing', " + kNeither + " (did you mean 'running'?)"},
      {"lidar == OK", 9, "'lidar' is compared with 'OK', " + kNeither + " (did you mean 'ok'?)"},
      {"lidar == Failed", 9,
       "'lidar' is compared with 'Failed', " + kNeither + " (did you mean 'failed'?)"},
      {"lidar == ok && camera == ok", 12, "'&&' is not an operator: use 'and'"},
      {"lidar == ok & camera == ok", 12, "'&' is not an operator: use 'and'"},
      {"lidar == ok || camera == ok", 12, "'||' is not an operator: use 'or'"},
      {"!(lidar == ok)", 0, "'!' is not an operator: use 'not' (or '!=' to compare)"},
      {"lidar = ok", 6, "'=' is not an operator: use '=='"},
      {"lidar === ok", 8, "'=' is not an operator: use '=='"},
      {"(lidar == ok", 0, "unbalanced parenthesis: '(' without ')'"},
      {"lidar == ok and ((camera == ok)", 16, "unbalanced parenthesis: '(' without ')'"},
      {"lidar == ok)", 11, "unbalanced parenthesis: ')' without '('"},
      {"(lidar == ok)) or true", 13, "unbalanced parenthesis: ')' without '('"},
      {"()", 1, kOperand + "after '(', got ')'"},
      {"not", 3, kOperand + "after 'not', got end of rule"},
      {"lidar == ok and not", 19, kOperand + "after 'not', got end of rule"},
      {"lidar == ok camera == ok", 12, "expected 'and' or 'or' after 'lidar == ok', got 'camera'"},
      {"(lidar == ok) (camera == ok)", 14, "expected 'and' or 'or' after '(lidar == ok)', got '('"},
      {"(lidar == ok camera == ok)", 13,
       "expected 'and', 'or' or ')' after 'lidar == ok', got 'camera'"},
      {"lidar == ok AND camera == ok", 12,
       "expected 'and' or 'or' after 'lidar == ok', got 'AND' (keywords are lowercase: 'and')"},
      {"NOT lidar == ok", 0, "'NOT' is not a keyword: keywords are lowercase ('not')"},
      {"true == ok", 5, "expected 'and' or 'or' after 'true', got '=='"},
      {"lidar == camera", 9,
       "'lidar' is compared with 'camera', which is a component, not a state or level: compare "
       "each with a value, as in 'lidar == ok and camera == ok'"},
      {"lidar != sensors", 9,
       "'lidar' is compared with 'sensors', which is a group, not a state or level: compare each "
       "with a value, as in 'lidar == ok and sensors == ok'"},
      {"ok == lidar", 0,
       "'ok' is a level, not a component or group: a comparison reads "
       "'NAME == ok'"},
      {"failed == controller", 0,
       "'failed' is a state, not a component or group: a comparison reads 'NAME == failed'"},
      {"lidar", 5, "expected '==', '!=', 'in' or 'not in' after 'lidar', got end of rule"},
      {"lidar ok", 6, "expected '==', '!=', 'in' or 'not in' after 'lidar', got 'ok'"},
      {"lidar !=", 8, "expected a state or level after '!=', got end of rule"},
      {"lidar == (ok)", 9, "expected a state or level after '==', got '('"},
      {"lidar == not ok", 9, "expected a state or level after '==', got 'not'"},
      {"lidar == true", 9, "expected a state or level after '==', got 'true'"},
      {"lidar in failed", 9,
       "expected '(' after 'in', as in 'lidar in (failed, given_up)', got 'failed'"},
      {"lidar in ()", 10, "expected a state or level after '(', got ')'"},
      {"lidar in (failed,)", 17, "expected a state or level after ',', got ')'"},
      {"lidar in (failed given_up)", 17, "expected ',' or ')' after 'failed', got 'given_up'"},
      {"lidar in (failed, given_up", 9, "unbalanced parenthesis: '(' without ')'"},
      {"lidar in (failed, error)", 18,
       "the list mixes states and levels ('failed' is a state, 'error' is a level): use one kind "
       "per list and join comparisons with 'or'"},
      {"lidar in (ok, fialed)", 14,
       "'lidar' is compared with 'fialed', " + kNeither + " (did you mean 'failed'?)"},
      {"lidar not ok", 10,
       "expected 'in' after 'lidar not', got 'ok' (to negate a comparison, write 'not lidar == "
       "VALUE')"},
      {deep, 64, "the rule nests more than 64 levels of '(' and 'not'"},
      {nots + "lidar == ok", 256, "the rule nests more than 64 levels of '(' and 'not'"},
      {"lidar == ok and cam\xc3\xa9ra == ok", 19,
       "unexpected byte 0xC3: a rule is ASCII text (names are letters, digits, '_', '-' and "
       "'.')"},
      {"lidar == ok\x01", 11,
       "unexpected byte 0x01: a rule is ASCII text (names are letters, digits, '_', '-' and "
       "'.')"},
      {std::string("lidar == ok\0", 12), 11,
       "unexpected byte 0x00: a rule is ASCII text (names are letters, digits, '_', '-' and "
       "'.')"},
      {"lidar <= ok", 6,
       "unexpected character '<': a rule uses 'and', 'or', 'not', '==', '!=', 'in', parentheses "
       "and commas"},
      {std::string(5000, ' '), 4096, "the rule is 5000 characters long; at most 4096 are allowed"},
  };
}

TEST(ModeRule, RejectsBadRulesWithOffsetAndMessage) {
  const auto cases = bad_rules();
  ASSERT_GE(cases.size(), 15U);
  for (const auto& bad : cases) {
    const auto parsed = ModeRule::parse(bad.text, known());
    const auto* error = std::get_if<RuleError>(&parsed);
    ASSERT_NE(error, nullptr) << "accepted: '" << bad.text << "'";
    EXPECT_EQ(error->message, bad.message) << "rule: '" << bad.text << "'";
    EXPECT_EQ(error->offset, bad.offset) << "rule: '" << bad.text << "'";
    EXPECT_LE(error->offset, bad.text.size());
  }
}

TEST(ModeRule, ReportsTheFirstProblemInTextOrder) {
  const auto parsed = ModeRule::parse("lidr == ok && camera = ok", known());
  ASSERT_TRUE(std::holds_alternative<RuleError>(parsed));
  EXPECT_EQ(std::get<RuleError>(parsed).offset, 0U);
}

TEST(ModeRule, HostileInputNeverOverflowsTheStack) {
  for (const std::string& text : {std::string(100000, '('), std::string(4096, '('),
                                  std::string(4000, '!'), std::string(4096, ')'), [] {
                                    std::string s;
                                    while (s.size() < 4090) s += "not ";
                                    return s;
                                  }()}) {
    const auto parsed = ModeRule::parse(text, known());
    EXPECT_TRUE(std::holds_alternative<RuleError>(parsed)) << text.substr(0, 20);
  }
}

// ---- property: the parser agrees with a reference evaluation of a random tree ----------

// An expression tree, printed to text with as few parentheses as precedence allows (plus
// random extra ones), and evaluated directly from the definitions in mode_rule.hpp.
struct Expr {
  enum Kind { any_of, all_of, negate, constant, compare } kind = constant;
  std::vector<std::unique_ptr<Expr>> children;
  bool value = false;
  std::string name;
  bool negated = false;
  bool levels = false;
  std::vector<std::string> values;

  int precedence() const {
    switch (kind) {
      case any_of:
        return 1;
      case all_of:
        return 2;
      case negate:
        return 3;
      default:
        return 4;
    }
  }
};

const std::vector<std::string> kNames{"lidar",   "camera", "controller", "imu.left-2",
                                      "sensors", "robot",  "spare"};
const std::vector<std::string> kStates{"stopped", "starting", "running", "stopping",
                                       "backoff", "failed",   "given_up"};
const std::vector<std::string> kLevels{"ok", "warn", "error", "stale"};

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  std::unique_ptr<Expr> expr(int depth) {
    auto e = std::make_unique<Expr>();
    const int pick = depth <= 0 ? 3 + below(2) : below(5);
    if (pick == 0 || pick == 1) {
      e->kind = pick == 0 ? Expr::any_of : Expr::all_of;
      const int n = 2 + below(3);
      for (int i = 0; i < n; ++i) e->children.push_back(expr(depth - 1));
    } else if (pick == 2) {
      e->kind = Expr::negate;
      e->children.push_back(expr(depth - 1));
    } else if (pick == 3 && below(6) == 0) {
      e->kind = Expr::constant;
      e->value = below(2) == 0;
    } else {
      e->kind = Expr::compare;
      e->name = kNames[below(static_cast<int>(kNames.size()))];
      e->negated = below(2) == 0;
      e->levels = below(2) == 0;
      const auto& pool = e->levels ? kLevels : kStates;
      const int n = below(3) == 0 ? 2 + below(3) : 1;
      for (int i = 0; i < n; ++i) e->values.push_back(pool[below(static_cast<int>(pool.size()))]);
      e->value = n > 1 || below(3) == 0;  // for a comparison: printed as a list
    }
    return e;
  }

  std::string print(const Expr& e, int context, std::vector<std::string>& atoms) {
    std::string out;
    switch (e.kind) {
      case Expr::constant:
        out = e.value ? "true" : "false";
        break;
      case Expr::compare: {
        std::string atom = e.name;
        if (e.value) {
          atom += e.negated ? " not in" : " in";
          atom += space() + "(";
          for (std::size_t i = 0; i < e.values.size(); ++i) {
            atom += (i == 0 ? space() : space() + "," + space()) + e.values[i];
          }
          atom += space() + ")";
        } else {
          atom += space() + (e.negated ? "!=" : "==") + space() + e.values[0];
        }
        atoms.push_back(atom);
        out = atom;
        break;
      }
      case Expr::negate:
        out = "not " + print(*e.children[0], 3, atoms);
        break;
      case Expr::any_of:
      case Expr::all_of:
        for (std::size_t i = 0; i < e.children.size(); ++i) {
          if (i > 0) out += e.kind == Expr::any_of ? " or " : " and ";
          out += print(*e.children[i], e.precedence(), atoms);
        }
        break;
    }
    if (e.precedence() < context || below(5) == 0) out = "(" + space() + out + space() + ")";
    return out;
  }

  World world() {
    World w;
    for (const auto& c : kComponents) {
      w.set(c, static_cast<State>(below(7)), static_cast<Level>(below(4)));
    }
    return w;
  }

 private:
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string space() {
    static const std::vector<std::string> kSpaces{"", "", " ", "  ", "\n"};
    return kSpaces[below(static_cast<int>(kSpaces.size()))];
  }
  std::mt19937 rng_;
};

bool reference(const Expr& e, const World& w, std::vector<bool>& atom_values) {
  switch (e.kind) {
    case Expr::constant:
      return e.value;
    case Expr::negate:
      return !reference(*e.children[0], w, atom_values);
    case Expr::any_of: {
      bool any = false;
      for (const auto& c : e.children) any = reference(*c, w, atom_values) || any;
      return any;
    }
    case Expr::all_of: {
      bool all = true;
      for (const auto& c : e.children) all = reference(*c, w, atom_values) && all;
      return all;
    }
    case Expr::compare: {
      const auto members = w.members(e.name);
      bool match = false;
      if (e.levels) {
        int worst = members.empty() ? 3 : 0;
        for (const auto& m : members) worst = std::max(worst, static_cast<int>(m.level));
        for (const auto& v : e.values) match = match || v == kLevels[worst];
      } else {
        match = !members.empty();
        for (const auto& m : members) {
          bool listed = false;
          for (const auto& v : e.values) listed = listed || v == to_string(m.state);
          match = match && listed;
        }
      }
      const bool value = e.negated ? !match : match;
      atom_values.push_back(value);
      return value;
    }
  }
  return false;
}

TEST(ModeRule, RandomRulesAgreeWithReferenceEvaluation) {
  Generator gen(20261129);
  int true_count = 0;
  int total = 0;
  for (int i = 0; i < 1500; ++i) {
    const auto tree = gen.expr(1 + i % 5);
    std::vector<std::string> atoms;
    const std::string text = gen.print(*tree, 0, atoms);
    const auto parsed = ModeRule::parse(text, known());
    if (const auto* error = std::get_if<RuleError>(&parsed)) {
      FAIL() << "'" << text << "' at " << error->offset << ": " << error->message;
    }
    const ModeRule& rule = std::get<ModeRule>(parsed);
    for (int j = 0; j < 10; ++j) {
      const World w = gen.world();
      std::vector<bool> atom_values;
      const bool expected = reference(*tree, w, atom_values);
      ASSERT_EQ(rule.holds(w.lookup()), expected) << text;
      const nlohmann::json explained = rule.explain(w.lookup());
      ASSERT_EQ(explained.size(), atoms.size()) << text;
      for (std::size_t k = 0; k < atoms.size(); ++k) {
        ASSERT_EQ(explained[k]["atom"], atoms[k]) << text;
        ASSERT_EQ(explained[k]["value"], static_cast<bool>(atom_values[k])) << text;
      }
      true_count += expected ? 1 : 0;
      ++total;
    }
  }
  // Both outcomes are exercised, so agreement means something.
  EXPECT_GT(true_count, total / 10);
  EXPECT_LT(true_count, total - total / 10);
}

}  // namespace
}  // namespace vigil::health
