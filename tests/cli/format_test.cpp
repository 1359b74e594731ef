// `vigil status` text: pending approvals, ladder positions and standbys.
#include "cli/format.hpp"

#include <gtest/gtest.h>

namespace vigil::cli {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000'000'000;

json approval(const std::string& id, std::int64_t left_us, const std::string& fallback) {
  return {{"id", id},
          {"component", "lidar"},
          {"step", 2},
          {"action", "restart_group sensors"},
          {"why", "lidar crashed twice in 10s"},
          {"requested_us", kNow - 1'000'000},
          {"deadline_us", kNow + left_us},
          {"timeout_ms", 30000},
          {"default", fallback}};
}

json component(json fields) {
  json node = {{"type", "component"}, {"name", "lidar"}, {"state", "failed"}, {"pid", 0},
               {"for_ms", 1500},      {"restarts", 2}};
  node.update(fields);
  return node;
}

TEST(StatusFormat, NoPendingApprovalsPrintsNothing) {
  EXPECT_EQ(format_approvals(json::array(), Style{}, kNow), "");
  EXPECT_EQ(format_approvals(json(), Style{}, kNow), "") << "an older vigild has no approvals";
}

TEST(StatusFormat, PendingApprovalsShowWhatWhyTimeLeftDefaultAndHowToAnswer) {
  const auto text = format_approvals(
      json::array({approval("1", 25'000'000, "deny"), approval("2", -5, "approve")}), Style{},
      kNow);
  EXPECT_EQ(text,
            "pending approvals (2)\n"
            "  [1] lidar: restart_group sensors\n"
            "      why: lidar crashed twice in 10s\n"
            "      25s left; then the default applies: deny\n"
            "      answer: vigil approve 1  |  vigil deny 1\n"
            "  [2] lidar: restart_group sensors\n"
            "      why: lidar crashed twice in 10s\n"
            "      due now; then the default applies: approve\n"
            "      answer: vigil approve 2  |  vigil deny 2\n");
}

TEST(StatusFormat, ApprovalsInColourHighlightTheHeading) {
  const auto text =
      format_approvals(json::array({approval("1", 1'000'000, "deny")}), Style{true}, kNow);
  EXPECT_NE(text.find("\033[1;33mpending approvals (1)\033[0m"), std::string::npos) << text;
}

TEST(StatusFormat, ComponentShowsItsLadderPosition) {
  const auto text = format_status(
      component({{"recovery", {{"step", 2}, {"of", 3}, {"action", "restart_group sensors"}}}}),
      Style{}, kNow);
  EXPECT_NE(text.find("    recovery step 2/3: restart_group sensors\n"), std::string::npos) << text;
}

TEST(StatusFormat, StandbysSayWhomTheyCoverAndWhoReplacedThePrimary) {
  EXPECT_NE(
      format_status(component({{"state", "running"}, {"standby_for", "lidar_main"}, {"hot", true}}),
                    Style{}, kNow)
          .find("    standby for lidar_main (hot)\n"),
      std::string::npos);
  const auto serving = format_status(
      component(
          {{"state", "running"}, {"standby_for", "lidar_main"}, {"serving_for", "lidar_main"}}),
      Style{}, kNow);
  EXPECT_NE(serving.find("    serving for lidar_main\n"), std::string::npos) << serving;
  EXPECT_EQ(serving.find("standby for"), std::string::npos) << "serving says more: " << serving;
  EXPECT_NE(format_status(component({{"replaced_by", "lidar_backup"}}), Style{}, kNow)
                .find("    replaced by standby lidar_backup\n"),
            std::string::npos);
}

TEST(StatusFormat, ComponentWithoutLadderOrStandbyHasNoSuchLines) {
  const auto text = format_status(component({{"state", "running"}}), Style{}, kNow);
  EXPECT_EQ(text.find("recovery"), std::string::npos) << text;
  EXPECT_EQ(text.find("standby"), std::string::npos) << text;
  EXPECT_EQ(text.find("serving"), std::string::npos) << text;
}

}  // namespace
}  // namespace vigil::cli
