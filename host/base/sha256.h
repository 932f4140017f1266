// sha256.h -- SHA-256 of bytes, as lowercase hex (OpenSSL's libcrypto).
#ifndef GRAFT_HOST_BASE_SHA256_H_
#define GRAFT_HOST_BASE_SHA256_H_

#include <string>
#include <string_view>

namespace graft {

std::string sha256Hex(std::string_view bytes);

}  // namespace graft

#endif  // GRAFT_HOST_BASE_SHA256_H_
