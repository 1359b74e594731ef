#include "http/api_token.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace vigil::http {
namespace {

namespace fs = std::filesystem;

class ApiTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fs::path("vigil-token-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "token").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(ApiTokenTest, CreatesAPrivateRandomTokenAndKeepsIt) {
  auto first = ApiToken::load_or_create(path_);
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->value().size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ApiToken::load_or_create(path_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value(), first->value());

  fs::remove(path_);
  auto other = ApiToken::load_or_create(path_);
  ASSERT_TRUE(other);
  EXPECT_NE(other->value(), first->value());
}

TEST_F(ApiTokenTest, ReplacesATokenOthersCouldReadOrThatIsMalformed) {
  { std::ofstream(path_) << std::string(64, 'a') << "\n"; }
  ::chmod(path_.c_str(), 0644);
  auto readable = ApiToken::load_or_create(path_);
  ASSERT_TRUE(readable);
  EXPECT_NE(readable->value(), std::string(64, 'a'));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  { std::ofstream(path_) << "short\n"; }
  ::chmod(path_.c_str(), 0600);
  auto malformed = ApiToken::load_or_create(path_);
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->value().size(), 64u);
}

TEST_F(ApiTokenTest, UnwritableDirectoryIsAClearError) {
  auto result = ApiToken::load_or_create((dir_ / "missing" / "token").string());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("missing"), std::string::npos) << result.error();
}

TEST_F(ApiTokenTest, MatchesOnlyTheExactToken) {
  auto token = ApiToken::load_or_create(path_);
  ASSERT_TRUE(token);
  const auto& v = token->value();
  EXPECT_TRUE(token->matches(v));
  EXPECT_FALSE(token->matches(""));
  EXPECT_FALSE(token->matches(v.substr(0, 63)));
  EXPECT_FALSE(token->matches(v + "0"));
  std::string flipped = v;
  flipped[63] = flipped[63] == '0' ? '1' : '0';
  EXPECT_FALSE(token->matches(flipped));
}

TEST(BearerCredential, ParsesTheSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_credential("Bearer abc"), "abc");
  EXPECT_EQ(bearer_credential("bearer  abc "), "abc");
  EXPECT_EQ(bearer_credential("Basic abc"), "");
  EXPECT_EQ(bearer_credential("Bearer"), "");
  EXPECT_EQ(bearer_credential(""), "");
}

}  // namespace
}  // namespace vigil::http
