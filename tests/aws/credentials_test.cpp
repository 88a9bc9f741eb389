// The credential chain's order (explicit, environment, shared credentials file, config file),
// its profile selection and its errors for half a key pair.
#include "aws/credentials.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace orderlake::aws {
namespace {
using orderlake::testing::TempDir;

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

class CredentialChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    orderlake::testing::write_file(dir.path() / ".aws/credentials",
                                   "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
                                   "[other]\naws_access_key_id=OTHERKEY\naws_secret_access_key=othersecret\n"
                                   "aws_session_token = othertoken\n");
    orderlake::testing::write_file(dir.path() / ".aws/config",
                                   "[default]\nregion = eu-west-1\n"
                                   "[profile cfgonly]\naws_access_key_id=CFGKEY\naws_secret_access_key=cfgsecret\n");
  }
  Result<Credentials> resolve(Credentials given = {}) {
    CredentialChain c;
    c.explicit_credentials = std::move(given);
    c.env = env.lookup();
    c.home = dir.str();
    return resolve_credentials(c);
  }
  TempDir dir;
  FakeEnv env;
};

TEST_F(CredentialChainTest, ExplicitThenEnvironmentThenFiles) {
  auto r = resolve();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->access_key_id, "FILEKEY");
  EXPECT_EQ(r->secret_access_key, "filesecret");
  EXPECT_NE(r->source.find(".aws/credentials [default]"), std::string::npos) << r->source;

  env.vars = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "tok"}};
  r = resolve();
  EXPECT_EQ(r->access_key_id, "ENVKEY");
  EXPECT_EQ(r->session_token, "tok");
  EXPECT_EQ(r->source, "environment");

  r = resolve(Credentials{"FLAGKEY", "flagsecret", "", "--access-key"});
  EXPECT_EQ(r->access_key_id, "FLAGKEY");
  EXPECT_EQ(r->source, "--access-key");
}

TEST_F(CredentialChainTest, ProfilesAndTheConfigFile) {
  env.vars = {{"AWS_PROFILE", "other"}};
  auto r = resolve();
  EXPECT_EQ(r->access_key_id, "OTHERKEY");
  EXPECT_EQ(r->session_token, "othertoken");
  env.vars = {{"AWS_PROFILE", "cfgonly"}};
  r = resolve();
  EXPECT_EQ(r->access_key_id, "CFGKEY");
  EXPECT_NE(r->source.find("[profile cfgonly]"), std::string::npos) << r->source;
  env.vars = {{"AWS_PROFILE", "missing"}};
  r = resolve();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  // Explicit file locations win over ~/.aws.
  orderlake::testing::write_file(dir.path() / "elsewhere", "[default]\naws_access_key_id=ELSE\naws_secret_access_key=s\n");
  env.vars = {{"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "elsewhere").string()}};
  EXPECT_EQ(resolve()->access_key_id, "ELSE");
  env.vars = {{"AWS_SHARED_CREDENTIALS_FILE", (dir.path() / "none").string()},
              {"AWS_CONFIG_FILE", (dir.path() / "elsewhere").string()}};
  EXPECT_EQ(resolve()->access_key_id, "ELSE");  // [default] of the config file
}

TEST_F(CredentialChainTest, HalfAPairIsAnErrorNamingTheSource) {
  env.vars = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}};
  auto r = resolve();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << r.status().message();
  env.vars = {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}};  // empty = unset
  EXPECT_EQ(resolve()->access_key_id, "FILEKEY");
  orderlake::testing::write_file(dir.path() / ".aws/credentials", "[default]\naws_access_key_id = ONLYID\n");
  r = resolve();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("aws_secret_access_key"), std::string::npos) << r.status().message();
}

TEST(AwsRegion, EnvironmentThenFallback) {
  FakeEnv env;
  EXPECT_EQ(default_region(env.lookup(), "us-east-1"), "us-east-1");
  env.vars = {{"AWS_DEFAULT_REGION", "eu-west-1"}};
  EXPECT_EQ(default_region(env.lookup()), "eu-west-1");
  env.vars["AWS_REGION"] = "ap-south-1";
  EXPECT_EQ(default_region(env.lookup()), "ap-south-1");
}

}  // namespace
}  // namespace orderlake::aws
