#include "cli/credentials_file.h"

#include <fstream>

namespace orderlake::cli {

Status read_credentials(const std::string& path, std::map<std::string, std::string>& keys) {
  std::ifstream in(path);
  if (!in) return Status::Errorf("cannot read credentials file {}", path);
  std::string line, id;
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    auto eq = line.find('=');
    if (eq != std::string::npos) {
      std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
      if (k == "aws_access_key_id") id = v;
      else if (k == "aws_secret_access_key") {
        if (id.empty()) return Status::Errorf("{}:{}: aws_secret_access_key before aws_access_key_id", path, n);
        keys[id] = v;
        id.clear();
      }
      continue;
    }
    auto sp = line.find_first_of(" \t");
    if (sp == std::string::npos) return Status::Errorf("{}:{}: expected 'ACCESS_KEY_ID SECRET'", path, n);
    keys[line.substr(0, sp)] = trim(line.substr(sp + 1));
  }
  return Status::OK();
}

}  // namespace orderlake::cli
