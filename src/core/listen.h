// The --listen flag of every service: "HOST:PORT" ("[::1]:PORT" for IPv6), port 0-65535.
#pragma once
#include <string>
#include <string_view>

#include "core/status.h"

namespace orderlake {

inline Status ParseListen(std::string_view listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return Status::Errorf("--listen must be HOST:PORT, got {}", listen);
  std::string h(listen.substr(0, colon));
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::string_view p = listen.substr(colon + 1);
  int value = 0;
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos)
    return Status::Errorf("--listen must be HOST:PORT, got {}", listen);
  for (char c : p) value = value * 10 + (c - '0');
  host = std::move(h);
  port = value;
  return Status::OK();
}

}  // namespace orderlake
