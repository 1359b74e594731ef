#pragma once
// The Prometheus text exposition format, version 0.0.4 (what `GET /metrics` answers with
// `Content-Type: text/plain; version=0.0.4`).
//
// An Exposition is built in memory and rendered at the end, so that every family comes out
// in one piece (`# HELP`, `# TYPE`, then all its samples) however the caller interleaves its
// calls: Prometheus and promtool reject a family whose samples are split. Families are
// rendered in the order they were first declared, samples in the order they were added, so
// the output is deterministic and testable byte for byte.
//
// Names are fixed by the code that uses this writer, so a bad metric or label name is a
// programming error (std::invalid_argument). Label values come from the outside (component
// names, sensor names) and are escaped, never rejected.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::metrics {

// Label name → value, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { counter, gauge, histogram };
std::string_view to_string(MetricType type);

// A Prometheus number: NaN, +Inf, -Inf; integral values up to 2^53 without a fraction or an
// exponent ("1000000", not "1e+06"); anything else in the shortest form that reads back to
// the same double.
std::string format_value(double value);
// Label values escape backslash, double quote and newline; HELP text escapes backslash and
// newline only (the format's two escaping rules).
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (label names starting with "__" are
// reserved to Prometheus).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// Observations sorted into buckets by upper bound. Counts are kept per bucket (not
// cumulative); the writer accumulates them, adds the +Inf bucket and the _sum and _count.
class Histogram {
 public:
  // Upper bounds, strictly increasing and finite; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // One per upper bound, plus the last for values above every bound.
  const std::vector<std::uint64_t>& bucket_counts() const { return counts_; }
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Family {
 public:
  Family(std::string name, MetricType type, std::string help);

  // One sample of a counter or gauge. Labels are written in the order given.
  Family& add(const Labels& labels, double value);
  Family& add(double value) { return add({}, value); }
  // One labelled histogram (only in a histogram family): _bucket lines with `le` last, then
  // _sum and _count.
  Family& add(const Labels& labels, const Histogram& histogram);

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  bool empty() const { return lines_.empty(); }
  void render(std::string& out) const;

 private:
  void append_sample(std::string_view suffix, const Labels& labels, const std::string* le,
                     double value);

  std::string name_;
  MetricType type_;
  std::string help_;
  std::string lines_;
};

class Exposition {
 public:
  // Declares a family, or returns the one declared earlier under that name (which must have
  // the same type). A counter's name ends in `_total`; a histogram's must not carry the
  // reserved suffixes (`_bucket`, `_sum`, `_count`).
  Family& counter(std::string_view name, std::string_view help);
  Family& gauge(std::string_view name, std::string_view help);
  Family& histogram(std::string_view name, std::string_view help);

  // Every declared family that has at least one sample: a family without samples would be
  // an empty `# TYPE` that tells nothing.
  std::string text() const;

 private:
  Family& declare(std::string_view name, MetricType type, std::string_view help);

  std::vector<std::unique_ptr<Family>> families_;  // in declaration order
  std::map<std::string, Family*, std::less<>> by_name_;
};

}  // namespace vigil::metrics
