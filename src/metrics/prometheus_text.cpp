#include "metrics/prometheus_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace vigil::metrics {

std::string_view to_string(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Doubles represent every integer up to 2^53 exactly: print those as integers, so that a
  // byte count or a counter never reads "1.048576e+06".
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) <= kExactIntegers) {
    if (value == 0) return "0";  // also -0
    return fmt::format("{:.0f}", value);
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return fmt::format("{}", value);
  return std::string(buffer, end);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_letter(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_letter(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_letter(c) || is_digit(c); });
}

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
  counts_.assign(upper_bounds_.size() + 1, 0);
}

void Histogram::observe(double value) {
  // `le` is inclusive: a value equal to a bound belongs to that bucket.
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  ++counts_[static_cast<std::size_t>(it - upper_bounds_.begin())];
  sum_ += value;
  ++count_;
}

Family::Family(std::string name, MetricType type, std::string help)
    : name_(std::move(name)), type_(type), help_(std::move(help)) {}

void Family::append_sample(std::string_view suffix, const Labels& labels, const std::string* le,
                           double value) {
  lines_ += name_;
  lines_ += suffix;
  if (!labels.empty() || le != nullptr) {
    lines_ += '{';
    bool first = true;
    auto label = [&](std::string_view key, std::string_view val) {
      if (!first) lines_ += ',';
      first = false;
      lines_ += key;
      lines_ += "=\"";
      lines_ += escape_label_value(val);
      lines_ += '"';
    };
    for (const auto& [key, val] : labels) {
      if (!valid_label_name(key) || (type_ == MetricType::histogram && key == "le")) {
        throw std::invalid_argument(fmt::format("metric {}: invalid label name '{}'", name_, key));
      }
      label(key, val);
    }
    if (le != nullptr) label("le", *le);
    lines_ += '}';
  }
  lines_ += ' ';
  lines_ += format_value(value);
  lines_ += '\n';
}

Family& Family::add(const Labels& labels, double value) {
  if (type_ == MetricType::histogram) {
    throw std::invalid_argument(fmt::format("metric {}: a histogram takes a Histogram", name_));
  }
  append_sample("", labels, nullptr, value);
  return *this;
}

Family& Family::add(const Labels& labels, const Histogram& histogram) {
  if (type_ != MetricType::histogram) {
    throw std::invalid_argument(fmt::format("metric {} is not a histogram", name_));
  }
  std::uint64_t cumulative = 0;
  const auto& counts = histogram.bucket_counts();
  for (std::size_t i = 0; i < histogram.upper_bounds().size(); ++i) {
    cumulative += counts[i];
    const std::string le = format_value(histogram.upper_bounds()[i]);
    append_sample("_bucket", labels, &le, static_cast<double>(cumulative));
  }
  const std::string inf = "+Inf";
  append_sample("_bucket", labels, &inf, static_cast<double>(histogram.count()));
  append_sample("_sum", labels, nullptr, histogram.sum());
  append_sample("_count", labels, nullptr, static_cast<double>(histogram.count()));
  return *this;
}

void Family::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += to_string(type_);
  out += '\n';
  out += lines_;
}

Family& Exposition::counter(std::string_view name, std::string_view help) {
  if (!ends_with(name, "_total")) {
    throw std::invalid_argument(fmt::format("counter {} must end in _total", name));
  }
  return declare(name, MetricType::counter, help);
}

Family& Exposition::gauge(std::string_view name, std::string_view help) {
  return declare(name, MetricType::gauge, help);
}

Family& Exposition::histogram(std::string_view name, std::string_view help) {
  if (ends_with(name, "_bucket") || ends_with(name, "_sum") || ends_with(name, "_count")) {
    throw std::invalid_argument(fmt::format("histogram {} uses a reserved suffix", name));
  }
  return declare(name, MetricType::histogram, help);
}

Family& Exposition::declare(std::string_view name, MetricType type, std::string_view help) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument(fmt::format("invalid metric name '{}'", name));
  }
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    if (it->second->type() != type) {
      throw std::invalid_argument(fmt::format("metric {} declared as {} and as {}", name,
                                              to_string(it->second->type()), to_string(type)));
    }
    return *it->second;
  }
  families_.push_back(std::make_unique<Family>(std::string(name), type, std::string(help)));
  by_name_.emplace(std::string(name), families_.back().get());
  return *families_.back();
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& family : families_) {
    if (!family->empty()) family->render(out);
  }
  return out;
}

}  // namespace vigil::metrics
