// Answering a recovery step that waits for approval, against a real vigild: over the HTTP API
// (token rules like the other commands), with the `vigil` CLI, and over the control socket.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

// Fails once (restart), fails again: rung 2 waits for an operator, 30 s, default deny.
const char* kFlaky = R"(
root:
  children:
    - name: flaky
      command: [sh, -c, "exit 3"]
      backoff: {initial: 10ms, max: 10ms}
      recovery:
        - restart: 1
        - restart_group: true
          approval: {timeout: 30s, default: deny}
)";

class ApprovalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = std::make_unique<Vigild>(kFlaky);
    v_->start();
    requested_ = v_->wait_for("flaky", "approval_requested", 20s);
    std::smatch m;
    const std::string url = v_->http_url();
    ASSERT_TRUE(std::regex_match(url, m, std::regex(R"(http://([^:/]+):(\d+))"))) << url;
    client_ = std::make_unique<httplib::Client>(m[1].str(), std::stoi(m[2].str()));
    client_->set_read_timeout(10, 0);
  }

  httplib::Result post(const std::string& path, const std::string& token,
                       const std::string& body = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Post(path, headers, body, "application/json");
  }

  json approvals() {
    auto res = client_->Get("/api/v1/approvals");
    EXPECT_TRUE(res);
    if (!res) return nullptr;
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return json::parse(res->body)["approvals"];
  }

  std::string id() const { return requested_["detail"]["id"].get<std::string>(); }

  std::unique_ptr<Vigild> v_;
  json requested_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApprovalTest, HttpListsThePendingApprovalAndApproveNeedsTheToken) {
  EXPECT_EQ(id(), "1");
  const auto list = approvals();
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], "1");
  EXPECT_EQ(list[0]["component"], "flaky");
  EXPECT_EQ(list[0]["default"], "deny");
  EXPECT_EQ(list[0]["timeout_ms"], 30000);
  EXPECT_GT(list[0]["deadline_us"].get<std::int64_t>(),
            list[0]["requested_us"].get<std::int64_t>());
  EXPECT_EQ(v_->status()["approvals"], list) << "the status carries the same list";

  auto missing = post("/api/v1/approvals/1/approve", "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_NE(missing->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  auto wrong = post("/api/v1/approvals/1/approve", std::string(64, 'a'));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  auto get_on_post = client_->Get("/api/v1/approvals/1/approve");
  ASSERT_TRUE(get_on_post);
  EXPECT_EQ(get_on_post->status, 405);
  EXPECT_EQ(get_on_post->get_header_value("Allow"), "POST");
  EXPECT_TRUE(v_->events_of("flaky", "approval_decided").empty());
  EXPECT_EQ(approvals().size(), 1u) << "refused calls decide nothing";

  const std::string token = v_->token();
  auto unknown = post("/api/v1/approvals/42/approve", token);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_EQ(unknown->get_header_value("Content-Type"), "application/json");
  const auto unknown_body = json::parse(unknown->body);
  EXPECT_EQ(unknown_body["ok"], false);
  EXPECT_NE(unknown_body["error"].get<std::string>().find("'42'"), std::string::npos)
      << unknown_body;
  auto bad = post("/api/v1/approvals/a%20b/deny", token);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto bad_body = post("/api/v1/approvals/1/approve", token, R"({"why":"x"})");
  ASSERT_TRUE(bad_body);
  EXPECT_EQ(bad_body->status, 400) << bad_body->body;

  const auto before = v_->events().back()["id"].get<std::int64_t>();
  auto ok = post("/api/v1/approvals/1/approve", token, R"({"reason": "checked the wiring"})");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  const auto answer = json::parse(ok->body);
  EXPECT_EQ(answer["ok"], true);
  EXPECT_EQ(answer["id"], "1");
  EXPECT_EQ(answer["decision"], "approved");
  EXPECT_EQ(answer["message"].get<std::string>().rfind("approved ", 0), 0u) << answer;
  EXPECT_NE(answer["message"].get<std::string>().find("flaky"), std::string::npos) << answer;

  auto decided = v_->wait_for("flaky", "approval_decided", 10s, before);
  EXPECT_EQ(decided["detail"]["id"], "1");
  EXPECT_EQ(decided["detail"]["decision"], "approved");
  EXPECT_EQ(decided["detail"]["by"], "operator");
  EXPECT_EQ(decided["detail"]["origin"]["via"], "http");
  EXPECT_EQ(decided["detail"]["origin"]["reason"], "checked the wiring");
  EXPECT_TRUE(decided["detail"]["origin"].contains("client"));

  // Answered once: a second answer finds nothing pending.
  auto again = post("/api/v1/approvals/1/deny", token);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << again->body;
}

TEST_F(ApprovalTest, HttpDenyRecordsTheDecision) {
  const auto before = v_->events().back()["id"].get<std::int64_t>();
  auto ok = post("/api/v1/approvals/" + id() + "/deny", v_->token());
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["decision"], "denied");
  auto decided = v_->wait_for("flaky", "approval_decided", 10s, before);
  EXPECT_EQ(decided["detail"]["decision"], "denied");
  EXPECT_EQ(decided["detail"]["origin"]["via"], "http");
  EXPECT_TRUE(approvals().empty());
}

TEST_F(ApprovalTest, CliShowsThePendingApprovalAndAnswersIt) {
  const std::string cfg = v_->config_path();
  auto status = run_command({bin("vigil"), "-c", cfg, "status"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("pending approvals (1)"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("[1] flaky: "), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("then the default applies: deny"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("answer: vigil approve 1  |  vigil deny 1"), std::string::npos)
      << status.output;
  EXPECT_NE(status.output.find("recovery step 2/2: "), std::string::npos) << status.output;

  auto unknown = run_command({bin("vigil"), "-c", cfg, "deny", "99"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no approval '99' is pending (pending: 1 (flaky))"),
            std::string::npos)
      << unknown.output;
  auto bad = run_command({bin("vigil"), "-c", cfg, "approve", "a b"});
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("printable ASCII without spaces"), std::string::npos) << bad.output;
  EXPECT_EQ(run_command({bin("vigil"), "-c", cfg, "approve"}).exit_code, 64) << "ID is required";

  const auto before = v_->events().back()["id"].get<std::int64_t>();
  auto approved = run_command({bin("vigil"), "-c", cfg, "approve", "1"});
  EXPECT_EQ(approved.exit_code, 0) << approved.output;
  EXPECT_EQ(approved.output.rfind("approved ", 0), 0u) << approved.output;
  EXPECT_NE(approved.output.find(" for flaky\n"), std::string::npos) << approved.output;
  auto decided = v_->wait_for("flaky", "approval_decided", 10s, before);
  EXPECT_EQ(decided["detail"]["decision"], "approved");
  EXPECT_EQ(decided["detail"]["origin"]["via"], "cli");

  auto twice = run_command({bin("vigil"), "-c", cfg, "approve", "1"});
  EXPECT_EQ(twice.exit_code, 1) << twice.output;
  EXPECT_NE(twice.output.find("no approval '1' is pending"), std::string::npos) << twice.output;
}

TEST_F(ApprovalTest, ControlSocketDenyAndClearErrors) {
  auto empty = v_->request({{"cmd", "approve"}, {"id", ""}});
  EXPECT_EQ(empty["ok"], false);
  EXPECT_EQ(empty["error"], "an approval id must not be empty (`vigil status` lists them)");
  auto no_id = v_->request({{"cmd", "deny"}});
  EXPECT_EQ(no_id["ok"], false);
  EXPECT_EQ(no_id["error"], "'deny' needs \"id\" (a pending approval's id)");

  const auto before = v_->events().back()["id"].get<std::int64_t>();
  auto denied = v_->request({{"cmd", "deny"}, {"id", id()}});
  ASSERT_EQ(denied["ok"], true) << denied;
  EXPECT_EQ(denied["decision"], "denied");
  EXPECT_EQ(denied["message"].get<std::string>().rfind("denied ", 0), 0u) << denied;
  auto decided = v_->wait_for("flaky", "approval_decided", 10s, before);
  EXPECT_EQ(decided["detail"]["decision"], "denied");
  EXPECT_EQ(decided["detail"]["origin"]["via"], "cli");
}

}  // namespace
}  // namespace vigil::testing
