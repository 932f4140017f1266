// status.h -- errors as values.
//
// A Status is ok, or a code plus a one-line message that already names what
// failed, where and (when there is one) how to fix it. The command line
// prints the message as it is and exits with exitCode(code), so every
// message is written for the person at the terminal.
#ifndef GRAFT_HOST_BASE_STATUS_H_
#define GRAFT_HOST_BASE_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace graft {

// Each code is one documented exit code of the `graft` command.
enum class Code {
  kOk = 0,
  kMigrationFailed = 1,  // migrateOne (or a write it made) failed; resumable
  kUsage = 2,            // bad command line
  kBadInput = 3,         // malformed manifest, JSON lines, document
  kPlugin = 4,           // plugin missing, unloadable, wrong ABI, manifest mismatch
  kStore = 5,            // database can not be opened, read or written
  kCanceled = 6,         // stopped (signal or graft cancel) after a committed batch; resumable
  kBusy = 7,             // another run holds the store's lease
  kDrift = 8,            // applied history and files disagree: drift, sum file, order
  kSchema = 9,           // documents do not match a schema (check, push, a refused write)
};

int exitCode(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message", same code.
  Status prefixed(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}       // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace graft

// Returns from the enclosing function if `expr` (a Status) is not ok.
#define GRAFT_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::graft::Status graft_status_ = (expr);  \
    if (!graft_status_.ok()) return graft_status_; \
  } while (0)

#endif  // GRAFT_HOST_BASE_STATUS_H_
