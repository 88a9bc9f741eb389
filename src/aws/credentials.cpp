#include "aws/credentials.h"

#include <cstdlib>
#include <fstream>

#include "core/log.h"

namespace orderlake::aws {
namespace {

std::string trim(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  return std::string(s);
}

// A variable's value, "" when unset (the AWS CLI treats an empty variable as unset).
std::string var(const EnvLookup& env, const char* name) { return env ? env(name).value_or("") : ""; }

// Credentials from key/value pairs, or an error when only half of the pair is there.
Result<std::optional<Credentials>> pair_from(const std::string& id, const std::string& secret,
                                             const std::string& token, const std::string& source,
                                             const char* id_name, const char* secret_name) {
  if (id.empty() && secret.empty()) return std::optional<Credentials>();
  if (id.empty() || secret.empty())
    return Status::Errorf("{}: {} is set but {} is not; give both or neither", source,
                          id.empty() ? secret_name : id_name, id.empty() ? id_name : secret_name);
  return std::optional<Credentials>(Credentials{id, secret, token, source});
}

Result<std::optional<Credentials>> from_file(const std::string& path, const std::string& section,
                                             const std::string& label) {
  auto kv = read_profile(path, section);
  return pair_from(kv["aws_access_key_id"], kv["aws_secret_access_key"], kv["aws_session_token"],
                   path + " [" + label + "]", "aws_access_key_id", "aws_secret_access_key");
}

}  // namespace

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<Credentials> resolve_credentials(const CredentialChain& chain) {
  const Credentials& given = chain.explicit_credentials;
  if (!given.access_key_id.empty() || !given.secret_access_key.empty()) {
    const std::string source = given.source.empty() ? "explicit credentials" : given.source;
    auto c = pair_from(given.access_key_id, given.secret_access_key, given.session_token, source, "the access key id",
                       "the secret access key");
    if (!c.ok()) return c.status();
    return **c;
  }
  const EnvLookup& env = chain.env;
  auto e = pair_from(var(env, "AWS_ACCESS_KEY_ID"), var(env, "AWS_SECRET_ACCESS_KEY"), var(env, "AWS_SESSION_TOKEN"),
                     "environment", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
  if (!e.ok()) return e.status();
  if (*e) return **e;

  const std::string home = chain.home.empty() ? var(env, "HOME") : chain.home;
  std::string profile = var(env, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string file = var(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !home.empty()) file = home + "/.aws/credentials";
  if (!file.empty()) {
    auto f = from_file(file, profile, profile);
    if (!f.ok()) return f.status();
    if (*f) return **f;
  }
  std::string config = var(env, "AWS_CONFIG_FILE");
  if (config.empty() && !home.empty()) config = home + "/.aws/config";
  if (!config.empty()) {
    auto f = from_file(config, "profile " + profile, "profile " + profile);
    if (!f.ok()) return f.status();
    if (*f) return **f;
    if (profile == "default") {
      f = from_file(config, "default", "default");
      if (!f.ok()) return f.status();
      if (*f) return **f;
    }
  }
  return Credentials{};
}

Credentials default_credentials() {
  auto c = resolve_credentials(CredentialChain{});
  if (c.ok()) return *c;
  spdlog::warn("aws: ignoring malformed credentials: {}", c.status().message());
  return {};
}

std::map<std::string, std::string> read_profile(const std::string& path, const std::string& section) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line, current;
  bool in_section = false;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = trim(std::string_view(line).substr(1, line.size() - 2));
      in_section = current == section;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos || !in_section) continue;
    out[trim(std::string_view(line).substr(0, eq))] = trim(std::string_view(line).substr(eq + 1));
  }
  return out;
}

std::string default_region(const EnvLookup& env, std::string_view fallback) {
  std::string r = var(env, "AWS_REGION");
  if (r.empty()) r = var(env, "AWS_DEFAULT_REGION");
  return r.empty() ? std::string(fallback) : r;
}

std::string default_region(std::string_view fallback) { return default_region(process_env(), fallback); }

}  // namespace orderlake::aws
