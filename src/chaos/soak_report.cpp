#include "chaos/soak_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "diagnostics/report.hpp"

namespace vigil::chaos {

using health::EventKind;
using health::FailureKind;

Distribution Distribution::of(std::vector<double> samples) {
  Distribution d;
  d.count = static_cast<int>(samples.size());
  if (samples.empty()) return d;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double p) {
    const auto n = samples.size();
    const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
    return samples[std::min(n - 1, i == 0 ? 0 : i - 1)];
  };
  d.p50 = rank(0.50);
  d.p95 = rank(0.95);
  d.p99 = rank(0.99);
  d.max = samples.back();
  return d;
}

nlohmann::json Distribution::to_json() const {
  return {{"count", count}, {"p50", p50}, {"p95", p95}, {"p99", p99}, {"max", max}};
}

namespace {

bool is_failure(const health::Event& e) {
  return e.failure != FailureKind::none && !e.component.empty();
}

double ms_between(const health::Event& from, const health::Event& to) {
  return static_cast<double>(to.mono_us - from.mono_us) / 1000.0;
}

std::string percent(double ratio) {
  return fmt::format("{:.3f} %", ratio * 100.0);
}

void add_targets(SoakReport& r) {
  const double hours = static_cast<double>(r.window_end_us - r.window_start_us) / 3'600'000'000.0;
  // MTBF: failures nobody injected. None in the run shows only that it is above the run.
  if (r.false_alarms == 0) {
    r.targets.push_back({"MTBF", "> 24 h",
                         fmt::format("no unplanned failure in {:.2f} h (a lower bound)", hours),
                         hours >= 24.0 ? std::optional<bool>(true) : std::nullopt});
  } else {
    const double mtbf = hours / r.false_alarms;
    r.targets.push_back({"MTBF", "> 24 h",
                         fmt::format("{:.2f} h ({} unplanned failures)", mtbf, r.false_alarms),
                         mtbf > 24.0});
  }
  const auto& mttr = r.all.recovery_ms;
  r.targets.push_back({"MTTR", "< 30 s",
                       mttr.count == 0
                           ? "no recovery measured"
                           : fmt::format("p99 {:.0f} ms, max {:.0f} ms", mttr.p99, mttr.max),
                       mttr.count == 0 ? std::nullopt : std::optional<bool>(mttr.p99 < 30'000)});
  // vigil's own bar (issue 7), past the seed's: the restart path itself, for crashes and hangs.
  std::vector<double> crash_or_hang;
  for (const char* kind : {"kill", "hang"}) {
    if (auto it = r.by_fault.find(kind); it != r.by_fault.end()) {
      crash_or_hang.insert(crash_or_hang.end(), it->second.recovery_samples.begin(),
                           it->second.recovery_samples.end());
    }
  }
  // Below 100 samples a nearest-rank p99 is just the maximum: too few to mark the target.
  constexpr int kEnoughForP99 = 100;
  const auto fast = Distribution::of(crash_or_hang);
  r.targets.push_back(
      {"MTTR of crashes and hangs (vigil)", "p99 < 1 s",
       fast.count == 0
           ? "no crash or hang recovered"
           : fmt::format("p99 {:.0f} ms, max {:.0f} ms ({} recoveries{})", fast.p99, fast.max,
                         fast.count, fast.count < kEnoughForP99 ? ": too few for a p99" : ""),
       fast.count < kEnoughForP99 ? std::nullopt : std::optional<bool>(fast.p99 < 1000.0)});
  const double availability = r.nominal_or_degraded.value_or(r.system_availability);
  r.targets.push_back(
      {"availability", "> 99 %",
       fmt::format("{} ({})", percent(availability),
                   r.nominal_or_degraded ? "modes nominal or degraded" : "every component up"),
       availability > 0.99});
  if (r.nominal_or_degraded) {
    r.targets.push_back({"availability of nominal or degraded (vigil)", ">= 99.9 %",
                         percent(*r.nominal_or_degraded), *r.nominal_or_degraded >= 0.999});
  }
  const int detections = r.all.detected + r.false_alarms;
  const double fp = detections == 0 ? 0.0 : static_cast<double>(r.false_alarms) / detections;
  r.targets.push_back(
      {"false positives", "< 1 %",
       fmt::format("{} ({} of {} detections)", percent(fp), r.false_alarms, detections),
       detections == 0 ? std::nullopt : std::optional<bool>(fp < 0.01)});
  r.targets.push_back(
      {"detection", "100 % of injected faults",
       fmt::format("{} of {}", r.all.detected, r.all.injected),
       r.all.injected == 0 ? std::nullopt : std::optional<bool>(r.all.detected == r.all.injected)});
  if (r.to_ride_out > 0) {
    r.targets.push_back({"ridden out", "100 % of faults expected to cause no failure",
                         fmt::format("{} of {}", r.ridden_out, r.to_ride_out),
                         r.ridden_out == r.to_ride_out});
  }
  r.targets.push_back({"recovery", "100 % of detected faults",
                       fmt::format("{} of {}", r.all.recovered, r.all.detected),
                       r.all.detected == 0
                           ? std::nullopt
                           : std::optional<bool>(r.all.recovered == r.all.detected)});
}

void add_modes(SoakReport& r, const std::vector<health::Event>& events,
               const std::string& initial_mode) {
  std::string mode = initial_mode;
  std::int64_t since = r.window_start_us;
  std::map<std::string, double> time_us;
  for (const auto& e : events) {
    if (e.kind != EventKind::mode_changed) continue;
    if (mode.empty()) mode = e.detail.value("from", std::string());
    if (!mode.empty()) {
      time_us[mode] += static_cast<double>(e.wall_us - since);
      r.mode_spans.push_back({since, e.wall_us, mode});
    }
    mode = e.state;
    since = e.wall_us;
  }
  if (mode.empty()) return;  // no modes, or none changed: nothing to say about them
  time_us[mode] += static_cast<double>(r.window_end_us - since);
  r.mode_spans.push_back({since, r.window_end_us, mode});
  const double total = static_cast<double>(r.window_end_us - r.window_start_us);
  if (total <= 0) return;
  for (const auto& [name, us] : time_us) r.mode_share[name] = us / total;
  double good = 0;
  for (const char* name : {"nominal", "degraded"}) {
    if (auto it = r.mode_share.find(name); it != r.mode_share.end()) good += it->second;
  }
  r.nominal_or_degraded = good;
}

}  // namespace

SoakReport compute_soak_report(const std::vector<health::Event>& events,
                               std::int64_t window_start_us, std::int64_t window_end_us,
                               const SoakOptions& options) {
  SoakReport r;
  r.window_start_us = window_start_us;
  r.window_end_us = window_end_us;
  const auto window_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options.detection_window).count();

  std::vector<std::size_t> injections;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].kind == EventKind::fault_injected) injections.push_back(i);
  }
  std::vector<bool> matched(events.size(), false);
  // Until when each injection is in effect: its target's recovery, or the detection window.
  std::vector<std::int64_t> effect_end(events.size(), 0);
  std::map<std::string, std::vector<double>> detection_ms, recovery_ms;
  for (std::size_t at : injections) {
    const auto& inj = events[at];
    const std::string fault = inj.detail.value("fault", std::string("?"));
    if (inj.detail.value("expect", std::string("failure")) == "none") {
      // To be ridden out: any failure of the target while it is in effect says it was not.
      const std::int64_t until =
          inj.mono_us + inj.detail.value("duration_ms", std::int64_t{0}) * 1000;
      effect_end[at] = until;
      ++r.to_ride_out;
      std::optional<std::size_t> failure;
      for (std::size_t j = at + 1; j < events.size() && events[j].mono_us <= until; ++j) {
        if (events[j].component == inj.component && is_failure(events[j]) && !matched[j]) {
          failure = j;
          break;
        }
      }
      r.injections.push_back(
          {inj.wall_us, fault, inj.component, std::nullopt, std::nullopt, true, !failure});
      if (failure) {
        matched[*failure] = true;
        r.not_ridden_out.push_back(events[*failure].to_json());
      } else {
        ++r.ridden_out;
      }
      continue;
    }
    auto& figures = r.by_fault[fault];
    ++figures.injected;
    r.injections.push_back({inj.wall_us, fault, inj.component, std::nullopt, std::nullopt});
    auto& record = r.injections.back();
    std::optional<std::size_t> detection;
    for (std::size_t j = at + 1; j < events.size(); ++j) {
      const auto& e = events[j];
      if (e.mono_us - inj.mono_us > window_us) break;
      if (e.component != inj.component) continue;
      if (e.kind == EventKind::fault_injected) break;  // the next fault: this one went unseen
      if (is_failure(e) && !matched[j]) {
        detection = j;
        break;
      }
    }
    // A timed fault (a hang, lost heartbeats) lasts its duration, whatever happens meanwhile:
    // a restarted process that is hit again is the same fault, not a false alarm.
    const std::int64_t lasts_until =
        inj.mono_us + inj.detail.value("duration_ms", std::int64_t{0}) * 1000;
    effect_end[at] = std::max(inj.mono_us + window_us, lasts_until);
    if (!detection) {
      r.missed.push_back(inj.to_json());
      continue;
    }
    matched[*detection] = true;
    ++figures.detected;
    detection_ms[fault].push_back(ms_between(inj, events[*detection]));
    record.detection_ms = detection_ms[fault].back();
    for (std::size_t j = *detection + 1; j < events.size(); ++j) {
      const auto& e = events[j];
      if (e.component == inj.component && e.kind == EventKind::ready) {
        ++figures.recovered;
        recovery_ms[fault].push_back(ms_between(events[*detection], e));
        record.recovery_ms = recovery_ms[fault].back();
        effect_end[at] = std::max(e.mono_us, lasts_until);
        break;
      }
    }
  }
  std::vector<double> all_detection, all_recovery;
  for (auto& [fault, figures] : r.by_fault) {
    figures.detection_ms = Distribution::of(detection_ms[fault]);
    figures.recovery_ms = Distribution::of(recovery_ms[fault]);
    figures.detection_samples = detection_ms[fault];
    figures.recovery_samples = recovery_ms[fault];
    all_detection.insert(all_detection.end(), detection_ms[fault].begin(),
                         detection_ms[fault].end());
    all_recovery.insert(all_recovery.end(), recovery_ms[fault].begin(), recovery_ms[fault].end());
    r.all.injected += figures.injected;
    r.all.detected += figures.detected;
    r.all.recovered += figures.recovered;
  }
  r.all.detection_ms = Distribution::of(all_detection);
  r.all.recovery_ms = Distribution::of(all_recovery);
  r.all.detection_samples = all_detection;
  r.all.recovery_samples = all_recovery;

  // Failures not matched: collateral while some fault was in effect, else false alarms.
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!is_failure(events[i]) || matched[i]) continue;
    const auto& failure = events[i];
    // A hang detected less than its own timeout after a fault on its component ended counts
    // silence from within the fault.
    const auto timeout_us =
        static_cast<std::int64_t>(failure.detail.value("timeout_ms", 0.0) * 1000.0);
    const bool during_fault = std::any_of(injections.begin(), injections.end(), [&](auto at) {
      if (failure.mono_us < events[at].mono_us) return false;
      if (failure.mono_us <= effect_end[at]) return true;
      return failure.component == events[at].component &&
             failure.mono_us <= effect_end[at] + timeout_us;
    });
    if (during_fault) {
      ++r.collateral;
    } else {
      ++r.false_alarms;
      r.false_alarm_events.push_back(events[i].to_json());
    }
  }

  for (std::size_t i = 1; i < events.size(); ++i) {
    const auto gap = events[i].id - events[i - 1].id - 1;
    if (gap > 0) r.lost_events += static_cast<int>(gap);
  }

  const auto reliability = diagnostics::compute_report(events, window_start_us, window_end_us);
  for (const auto& [name, figures] : reliability.components) {
    r.availability[name] = figures.availability;
  }
  r.system_availability = reliability.system.availability;
  add_modes(r, events, options.initial_mode);
  add_targets(r);
  return r;
}

nlohmann::json SoakReport::to_json() const {
  auto figures = [](const FaultFigures& f) {
    return nlohmann::json{{"injected", f.injected},
                          {"detected", f.detected},
                          {"recovered", f.recovered},
                          {"detection_ms", f.detection_ms.to_json()},
                          {"recovery_ms", f.recovery_ms.to_json()}};
  };
  nlohmann::json faults = nlohmann::json::object();
  for (const auto& [name, f] : by_fault) faults[name] = figures(f);
  nlohmann::json targets_json = nlohmann::json::array();
  for (const auto& t : targets) {
    targets_json.push_back({{"name", t.name},
                            {"goal", t.goal},
                            {"measured", t.measured},
                            {"met", t.met ? nlohmann::json(*t.met) : nlohmann::json()}});
  }
  nlohmann::json j = {{"window_start_us", window_start_us},
                      {"window_end_us", window_end_us},
                      {"faults", faults},
                      {"all", figures(all)},
                      {"false_alarms", false_alarms},
                      {"collateral", collateral},
                      {"missed", missed},
                      {"false_alarm_events", false_alarm_events},
                      {"lost_events", lost_events},
                      {"to_ride_out", to_ride_out},
                      {"ridden_out", ridden_out},
                      {"not_ridden_out", not_ridden_out},
                      {"availability", availability},
                      {"system_availability", system_availability},
                      {"mode_share", mode_share},
                      {"targets", targets_json}};
  if (nominal_or_degraded) j["nominal_or_degraded"] = *nominal_or_degraded;
  return j;
}

std::string SoakReport::to_markdown() const {
  std::string out =
      fmt::format("# Chaos run: {:.1f} min\n\n",
                  static_cast<double>(window_end_us - window_start_us) / 60'000'000.0);
  out += "| target | goal | measured | |\n|---|---|---|---|\n";
  for (const auto& t : targets) {
    out += fmt::format("| {} | {} | {} | {} |\n", t.name, t.goal, t.measured,
                       !t.met   ? "not shown"
                       : *t.met ? "met"
                                : "NOT MET");
  }
  out +=
      "\n| fault | injected | detected | recovered | detection p50 / p95 / p99 / max (ms) | "
      "recovery p50 / p95 / p99 / max (ms) |\n|---|---|---|---|---|---|\n";
  auto row = [&](const std::string& name, const FaultFigures& f) {
    out += fmt::format(
        "| {} | {} | {} | {} | {:.0f} / {:.0f} / {:.0f} / {:.0f} | {:.0f} / {:.0f} / {:.0f} / "
        "{:.0f} |\n",
        name, f.injected, f.detected, f.recovered, f.detection_ms.p50, f.detection_ms.p95,
        f.detection_ms.p99, f.detection_ms.max, f.recovery_ms.p50, f.recovery_ms.p95,
        f.recovery_ms.p99, f.recovery_ms.max);
  };
  for (const auto& [name, f] : by_fault) row(name, f);
  row("all", all);
  out += fmt::format(
      "\nMissed detections: {}. False alarms: {}. Collateral failures (while a fault was in "
      "effect): {}. Events missing from the log: {}.\n",
      missed.size(), false_alarms, collateral, lost_events);
  if (to_ride_out > 0) {
    out += fmt::format("Faults to ride out with no failure (`expect: none`): {}, ridden out {}.\n",
                       to_ride_out, ridden_out);
  }
  out += "\n| component | availability |\n|---|---|\n";
  for (const auto& [name, a] : availability) out += fmt::format("| {} | {} |\n", name, percent(a));
  out += fmt::format("| (system: every component up) | {} |\n", percent(system_availability));
  if (!mode_share.empty()) {
    out += "\n| mode | share of the run |\n|---|---|\n";
    for (const auto& [name, share] : mode_share) {
      out += fmt::format("| {} | {} |\n", name, percent(share));
    }
  }
  return out;
}

namespace {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Every sample as a dot on a log axis from 1 ms to 100 s, with p50 and p99 marked.
std::string strip_chart(const std::vector<double>& samples, const Distribution& d,
                        const char* colour) {
  constexpr double kWidth = 640, kHeight = 46, kLeft = 10, kRight = 10;
  auto x = [&](double ms) {
    const double v = std::clamp(std::log10(std::max(ms, 1.0)), 0.0, 5.0);
    return kLeft + v / 5.0 * (kWidth - kLeft - kRight);
  };
  std::string svg =
      fmt::format("<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{} samples\">", kWidth,
                  kHeight, samples.size());
  for (int decade = 0; decade <= 5; ++decade) {
    const double at = x(std::pow(10.0, decade));
    static const char* const kLabels[] = {"1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s"};
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"4\" y2=\"30\" stroke=\"#ccc\"/>"
        "<text x=\"{0:.1f}\" y=\"42\" font-size=\"10\" text-anchor=\"middle\">{1}</text>",
        at, kLabels[decade]);
  }
  std::mt19937 spread(1);  // vertical jitter, so equal times stay visible
  std::uniform_real_distribution<double> dy(8, 26);
  for (double ms : samples) {
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.6\">"
        "<title>{:.0f} ms</title></circle>",
        x(ms), dy(spread), colour, ms);
  }
  if (d.count > 0) {
    for (auto [value, label] : {std::pair{d.p50, "p50"}, std::pair{d.p99, "p99"}}) {
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"2\" y2=\"32\" stroke=\"#000\"/>"
          "<title>{1} {2:.0f} ms</title>",
          x(value), label, value);
    }
  }
  return svg + "</svg>";
}

// The run on a time axis: each injection a dot at its time, as high as its recovery took (log
// axis, 10 ms to 100 s), coloured by fault kind; a missed one a red cross at the top; the
// system mode as a band underneath.
std::string timeline(const SoakReport& r) {
  constexpr double kWidth = 900, kPlot = 180, kBand = 16, kLeft = 50, kRight = 10, kTop = 10;
  const double span =
      std::max<double>(1.0, static_cast<double>(r.window_end_us - r.window_start_us));
  auto x = [&](std::int64_t us) {
    return kLeft + static_cast<double>(us - r.window_start_us) / span * (kWidth - kLeft - kRight);
  };
  auto y = [&](double ms) {
    const double v = std::clamp(std::log10(std::max(ms, 10.0)), 1.0, 5.0);
    return kTop + (5.0 - v) / 4.0 * kPlot;
  };
  const double band = kTop + kPlot + 8;
  std::string svg = fmt::format(
      R"(<svg width="{}" height="{}" role="img" aria-label="timeline of {} injections">)", kWidth,
      band + kBand + 24, r.injections.size());
  static const char* const kLabels[] = {"10 ms", "100 ms", "1 s", "10 s", "100 s"};
  for (int decade = 1; decade <= 5; ++decade) {
    const double at = y(std::pow(10.0, decade));
    svg += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#ddd"/>)"
                       R"(<text x="{3}" y="{4:.1f}" font-size="10" text-anchor="end">{5}</text>)",
                       kLeft, kWidth - kRight, at, kLeft - 4, at + 3, kLabels[decade - 1]);
  }
  static const char* const kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                         "#8c564b", "#e377c2", "#17becf", "#bcbd22"};
  std::map<std::string, const char*> colour_of;
  for (const auto& [name, f] : r.by_fault) {
    colour_of[name] = kColours[colour_of.size() % std::size(kColours)];
  }
  for (const auto& i : r.injections) {
    const double cx = x(i.at_us);
    if (i.to_ride_out) {
      // At the bottom: nothing to recover from, as it should be; a cross if it failed.
      svg +=
          i.ridden_out
              ? fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="none" stroke="#555">)"
                            R"(<title>{} {}: ridden out</title></circle>)",
                            cx, kTop + kPlot - 4, html_escape(i.fault), html_escape(i.target))
              : fmt::format(
                    R"(<text x="{:.1f}" y="{:.1f}" fill="#d00" font-size="14" )"
                    R"(text-anchor="middle">&#x2715;<title>{} {}: not ridden out</title></text>)",
                    cx, kTop + 10, html_escape(i.fault), html_escape(i.target));
      continue;
    }
    if (!i.detection_ms || !i.recovery_ms) {
      svg += fmt::format(
          R"(<text x="{:.1f}" y="{:.1f}" fill="#d00" font-size="14" text-anchor="middle">)"
          R"(&#x2715;<title>{} {}: {}</title></text>)",
          cx, kTop + 10, html_escape(i.fault), html_escape(i.target),
          i.detection_ms ? "not recovered" : "not detected");
      continue;
    }
    svg += fmt::format(
        R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}" fill-opacity="0.7">)"
        R"(<title>{} {}: detected in {:.0f} ms, recovered in {:.0f} ms</title></circle>)",
        cx, y(*i.recovery_ms), colour_of[i.fault], html_escape(i.fault), html_escape(i.target),
        *i.detection_ms, *i.recovery_ms);
  }
  for (const auto& m : r.mode_spans) {
    const char* fill = m.mode == "nominal" ? "#cfc" : m.mode == "degraded" ? "#fe9" : "#f99";
    svg += fmt::format(
        R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{}</title></rect>)",
        x(m.from_us), band, std::max(0.5, x(m.to_us) - x(m.from_us)), kBand, fill,
        html_escape(m.mode));
  }
  double legend = kLeft;
  for (const auto& [name, colour] : colour_of) {
    svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" font-size="11">{}</text>)",
                       legend, band + kBand + 14, colour, legend + 7, band + kBand + 18,
                       html_escape(name));
    legend += 14 + 7.0 * static_cast<double>(name.size());
  }
  return svg + "</svg>";
}

}  // namespace

std::string SoakReport::to_html() const {
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>vigil chaos report</title>"
      "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
      "text-align:left}.met{color:#070}.notmet{color:#b00;font-weight:bold}</style></head><body>";
  out += fmt::format("<h1>Chaos run: {:.1f} min</h1>",
                     static_cast<double>(window_end_us - window_start_us) / 60'000'000.0);
  out += "<table><tr><th>target</th><th>goal</th><th>measured</th><th></th></tr>";
  for (const auto& t : targets) {
    const char* verdict = !t.met ? "not shown" : *t.met ? "met" : "NOT MET";
    const char* css = !t.met ? "" : *t.met ? "met" : "notmet";
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                       html_escape(t.name), html_escape(t.goal), html_escape(t.measured), css,
                       verdict);
  }
  out += "</table>";
  out += fmt::format(
      "<p>Missed detections: {}. False alarms: {}. Collateral failures: {}. Events missing from "
      "the log: {}.</p>",
      missed.size(), false_alarms, collateral, lost_events);
  out +=
      "<h2>Timeline</h2><p>Each injection at its time, as high as its recovery took (failure "
      "event &rarr; ready again); a red cross is one not detected or not recovered. Below, the "
      "system mode (green nominal, yellow degraded, red any other).</p>";
  out += timeline(*this);
  auto section = [&](const std::string& name, const FaultFigures& f) {
    out += fmt::format(
        "<h2>{}</h2><p>{} injected, {} detected, {} recovered.</p>"
        "<p>Detection (injection &rarr; failure event): p50 {:.0f} ms, p99 {:.0f} ms, max "
        "{:.0f} ms</p>{}"
        "<p>Recovery (failure event &rarr; ready again): p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} "
        "ms</p>{}",
        html_escape(name), f.injected, f.detected, f.recovered, f.detection_ms.p50,
        f.detection_ms.p99, f.detection_ms.max,
        strip_chart(f.detection_samples, f.detection_ms, "#1f77b4"), f.recovery_ms.p50,
        f.recovery_ms.p99, f.recovery_ms.max,
        strip_chart(f.recovery_samples, f.recovery_ms, "#d62728"));
  };
  section("all faults", all);
  for (const auto& [name, f] : by_fault) section(name, f);
  out += "<h2>Availability</h2><table><tr><th>component</th><th>up</th></tr>";
  for (const auto& [name, a] : availability) {
    out += fmt::format("<tr><td>{}</td><td>{}</td></tr>", html_escape(name), percent(a));
  }
  out += fmt::format("<tr><td>(system: every component up)</td><td>{}</td></tr></table>",
                     percent(system_availability));
  if (!mode_share.empty()) {
    out += "<table><tr><th>mode</th><th>share of the run</th></tr>";
    for (const auto& [name, share] : mode_share) {
      out += fmt::format("<tr><td>{}</td><td>{}</td></tr>", html_escape(name), percent(share));
    }
    out += "</table>";
  }
  return out + "</body></html>\n";
}

}  // namespace vigil::chaos
