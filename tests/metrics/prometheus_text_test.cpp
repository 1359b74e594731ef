// The text exposition writer: exact output, byte for byte.
#include "metrics/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vigil::metrics {
namespace {

TEST(PrometheusText, FormatsSpecialAndIntegralValuesWithoutExponentNoise) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-0.0), "0");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1048576), "1048576");
  EXPECT_EQ(format_value(16e9), "16000000000");
  EXPECT_EQ(format_value(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(format_value(0.05), "0.05");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(0.1 + 0.2), "0.30000000000000004");  // round-trips, not rounded
  EXPECT_EQ(std::stod(format_value(1e300)), 1e300);
  EXPECT_EQ(std::stod(format_value(1.5e-9)), 1.5e-9);
}

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\nd"),
            R"(a\\b\"c\nd)");
  // HELP keeps double quotes as they are.
  EXPECT_EQ(escape_help("say \"hi\"\\\nbye"), R"(say "hi"\\\nbye)");

  Exposition e;
  e.gauge("vigil_x", "Line one\nline \"two\" \\ end").add({{"component", "we\"ird\\na\nme"}}, 1);
  EXPECT_EQ(e.text(),
            "# HELP vigil_x Line one\\nline \"two\" \\\\ end\n"
            "# TYPE vigil_x gauge\n"
            "vigil_x{component=\"we\\\"ird\\\\na\\nme\"} 1\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Histogram h({0.1, 1, 10});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.5);
  h.observe(20);
  h.observe(30);
  Exposition e;
  e.histogram("vigil_recovery_seconds", "Recovery.").add({{"component", "lidar"}}, h);
  EXPECT_EQ(e.text(),
            "# HELP vigil_recovery_seconds Recovery.\n"
            "# TYPE vigil_recovery_seconds histogram\n"
            "vigil_recovery_seconds_bucket{component=\"lidar\",le=\"0.1\"} 2\n"
            "vigil_recovery_seconds_bucket{component=\"lidar\",le=\"1\"} 3\n"
            "vigil_recovery_seconds_bucket{component=\"lidar\",le=\"10\"} 3\n"
            "vigil_recovery_seconds_bucket{component=\"lidar\",le=\"+Inf\"} 5\n"
            "vigil_recovery_seconds_sum{component=\"lidar\"} 50.65\n"
            "vigil_recovery_seconds_count{component=\"lidar\"} 5\n");
}

TEST(PrometheusText, EmptyHistogramStillHasEveryBucket) {
  Exposition e;
  e.histogram("h", "H.").add({}, Histogram({1}));
  EXPECT_EQ(e.text(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(PrometheusText, InterleavedCallsStillRenderEachFamilyContiguouslyOnce) {
  Exposition e;
  e.gauge("vigil_up", "Up.").add({{"component", "a"}}, 1);
  e.counter("vigil_failures_total", "Failures.").add({{"component", "a"}}, 2);
  e.gauge("vigil_up", "Up.").add({{"component", "b"}}, 0);
  e.counter("vigil_failures_total", "Failures.").add({{"component", "b"}}, 0);
  e.gauge("vigil_never_sampled", "No samples: not rendered.");
  EXPECT_EQ(e.text(),
            "# HELP vigil_up Up.\n"
            "# TYPE vigil_up gauge\n"
            "vigil_up{component=\"a\"} 1\n"
            "vigil_up{component=\"b\"} 0\n"
            "# HELP vigil_failures_total Failures.\n"
            "# TYPE vigil_failures_total counter\n"
            "vigil_failures_total{component=\"a\"} 2\n"
            "vigil_failures_total{component=\"b\"} 0\n");
}

TEST(PrometheusText, RejectsNamesThatAreProgrammingErrors) {
  Exposition e;
  EXPECT_THROW(e.counter("vigil_failures", "no _total"), std::invalid_argument);
  EXPECT_THROW(e.gauge("1abc", "bad name"), std::invalid_argument);
  EXPECT_THROW(e.gauge("vigil-x", "bad name"), std::invalid_argument);
  EXPECT_THROW(e.histogram("vigil_x_count", "reserved suffix"), std::invalid_argument);
  e.gauge("vigil_x", "X.");
  EXPECT_THROW(e.counter("vigil_x", "same name, other type"), std::invalid_argument);
  EXPECT_THROW(e.gauge("vigil_y", "Y.").add({{"bad-label", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(e.gauge("vigil_z", "Z.").add({{"__reserved", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(e.histogram("vigil_h", "H.").add({{"le", "1"}}, Histogram({1})),
               std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  EXPECT_TRUE(valid_metric_name("process_cpu_seconds_total"));
  EXPECT_TRUE(valid_metric_name("job:rate5m"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

}  // namespace
}  // namespace vigil::metrics
