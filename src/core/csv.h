// RFC 4180 CSV for one record at a time: splitting a line into fields and quoting a field
// for output. The hot path (no quotes in the line) does no copying: fields are views into
// the line.
#pragma once
#include <string>
#include <string_view>

namespace orderlake::csv {

// Splits `line` (without its line terminator) into fields. Quoted fields are unquoted;
// a quoted field holding doubled quotes is unescaped into `scratch`, and its view points
// there (scratch is reserved up front, so views stay valid until the next call).
// Stores at most `max_fields` views but counts every field. Returns the field count, or -1
// when the quoting is broken (an unterminated quote, or text after a closing quote), with
// the byte position of the problem in *error_pos when given.
int split(std::string_view line, std::string_view* fields, int max_fields, std::string& scratch,
          char delimiter = ',', size_t* error_pos = nullptr);

// True when the field must be quoted: it holds the delimiter, a quote, CR or LF.
bool needs_quotes(std::string_view field, char delimiter = ',');

// Appends the field to out, quoted (with doubled inner quotes) only when needed.
void append_field(std::string& out, std::string_view field, char delimiter = ',');

}  // namespace orderlake::csv
