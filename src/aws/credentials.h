// AWS credentials and the one chain that finds them, in the AWS CLI's order:
//   1. explicit values (command-line flags, agent.json's awsAccessKeyId/awsSecretAccessKey),
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials),
//      section [NAME] for the profile AWS_PROFILE (default "default"),
//   4. the config file (AWS_CONFIG_FILE or ~/.aws/config), section [profile NAME]
//      ([default] for the default profile).
// The first source that holds a key id wins; a source holding only half a pair (a key id
// without its secret or the reverse) is an error naming it, as the AWS CLI reports a
// partial set. No source at all gives empty credentials (anonymous), not an error.
// The environment is read through an injectable lookup so tests (and the agent's own
// Environment) decide what it holds.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace orderlake::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  std::string source;         // where they came from, for logs (never the values)
  bool empty() const { return access_key_id.empty(); }
};

// Looks a variable up: nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
// The process environment (std::getenv).
EnvLookup process_env();

struct CredentialChain {
  Credentials explicit_credentials;  // step 1; its `source` names the flags or file ("agent.json")
  EnvLookup env = process_env();
  std::string home;                  // the ~ of ~/.aws; empty = $HOME from `env`
};

// The credentials of the first source in the chain that has any (see the top of this file).
Result<Credentials> resolve_credentials(const CredentialChain& chain);
// resolve_credentials with no explicit values and the process environment; empty
// credentials (and a warning in the log) when a source is malformed.
Credentials default_credentials();

// The key = value pairs of one [section] of an INI-style AWS file (names as written,
// values trimmed); empty when the file or the section is missing.
std::map<std::string, std::string> read_profile(const std::string& path, const std::string& section);

// The region from AWS_REGION or AWS_DEFAULT_REGION, else `fallback`.
std::string default_region(std::string_view fallback = "us-east-1");
std::string default_region(const EnvLookup& env, std::string_view fallback = "us-east-1");

}  // namespace orderlake::aws
