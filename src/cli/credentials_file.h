// The --credentials-file of the services that verify SigV4 (firehose, aws).
#pragma once
#include <map>
#include <string>

#include "core/status.h"

namespace orderlake::cli {

// Reads an AWS-style credentials file (aws_access_key_id / aws_secret_access_key pairs, any
// sections) or lines "ACCESS_KEY_ID SECRET" into `keys` (id -> secret).
Status read_credentials(const std::string& path, std::map<std::string, std::string>& keys);

}  // namespace orderlake::cli
