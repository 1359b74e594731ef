#pragma once
// The dashboard (web/), compiled into vigild by cmake/embed_web.cmake.
#include <cstddef>
#include <span>
#include <string_view>

namespace vigil::http {

struct WebAsset {
  std::string_view path;  // "/index.html", "/vendor/uPlot.iife.min.js"
  std::string_view content_type;
  const char* data;
  std::size_t size;
};

std::span<const WebAsset> web_assets();

}  // namespace vigil::http
