// XML text of S3 documents (the S3 client's answers, the S3 API's requests).
#pragma once
#include <string>
#include <string_view>

namespace orderlake::store {

// Decodes the five named entities and numeric character references (to UTF-8; code points
// beyond U+10FFFF are dropped); anything else is kept as it is.
std::string XmlUnescape(std::string_view s);

}  // namespace orderlake::store
