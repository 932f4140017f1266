// graft status: where each migration stands.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>

#include "cli.h"

namespace graft::cli {
namespace {

std::string shortSum(const std::string& sum) { return sum.empty() ? "-" : sum.substr(0, 12); }

int runStatus(HostOptions host_options, bool json) {
  host_options.read_only = true;
  auto host = Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  auto rows = (*host)->status();
  if (!rows.ok()) return fail(rows.status());
  if (json) {
    boost::json::array out;
    for (const auto& r : *rows) {
      out.push_back(boost::json::object{{"id", r.id},
                                        {"description", r.description},
                                        {"state", r.state},
                                        {"processed", r.processed},
                                        {"changed", r.changed},
                                        {"cursor", r.cursor},
                                        {"checksum", r.checksum},
                                        {"file_checksum", r.file_checksum},
                                        {"updated_at", r.updated_at},
                                        {"error", r.error}});
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  int width = 2;
  for (const auto& r : *rows) width = std::max(width, static_cast<int>(r.id.size()));
  std::printf("%-*s  %-10s %10s %10s  %s\n", width, "ID", "STATE", "PROCESSED", "CHANGED", "CHECKSUM");
  for (const auto& r : *rows) {
    std::printf("%-*s  %-10s %10lld %10lld  %s\n", width, r.id.c_str(), r.state.c_str(),
                static_cast<long long>(r.processed), static_cast<long long>(r.changed),
                shortSum(r.checksum.empty() ? r.file_checksum : r.checksum).c_str());
    if (!r.error.empty()) std::printf("    error: %s\n", r.error.c_str());
  }
  return 0;
}

}  // namespace

Command addStatusCommand(CLI::App& app, const Globals& globals) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("status", "one line per migration: id, state, counts, checksum");
  sub->add_flag("--json", *json, "print a JSON array instead");
  return {sub, [&globals, json] { return runStatus(globals.host, *json); }};
}

}  // namespace graft::cli
