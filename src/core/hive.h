// Hive-style partition paths ("Country=United Kingdom/InvoiceDateOnly=2010-12-01"), with
// values escaped exactly as Hive's FileUtils.escapePathName and Spark's
// ExternalCatalogUtils escape them, so every engine reads the same values back.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace orderlake::hive {

// The directory name Hive uses for a NULL or empty partition value.
inline constexpr std::string_view kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

// Escapes one partition value: control characters, '"', '#', '%', '\'', '*', '/', ':',
// '=', '?', '\\', DEL, '{', '[', ']' and '^' become %XX (uppercase hex); every other
// byte, UTF-8 included, is kept. An empty value becomes kDefaultPartition.
std::string escape(std::string_view value);

// Reverses escape(): %XX (either case) becomes the byte; a '%' not followed by two hex
// digits stays as it is, as Hive does.
std::string unescape(std::string_view path_component);

// "key=escaped(value)".
std::string segment(std::string_view key, std::string_view value);

// The value of `key` in a relative path of "key=value" directories, unescaped
// ("Country=A%2FB/InvoiceDateOnly=2010-12-01/part.parquet" gives "A/B" for Country);
// nullopt when no directory names the key or it is kDefaultPartition (Hive's NULL).
std::optional<std::string> value_in_path(std::string_view path, std::string_view key);

}  // namespace orderlake::hive
